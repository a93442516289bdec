import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LOCAL_S3_CREDENTIALS, startS3Server, type S3Server } from '@media/local';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;
const BUCKET = 'media-parts';

/**
 * The local S3 server answers `200` for a part only once the part is whole on disk, as S3 does:
 * a client that lists or completes its upload the moment its last part is answered (Uppy does)
 * finds every part, at its full size, and the object assembled from all its bytes. A part whose
 * request is cut leaves nothing.
 */
describe('the local S3 server, parts of a multipart upload', () => {
  let dir: string;
  let server: S3Server;
  let s3: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-s3-parts-'));
    server = await startS3Server({ directory: dir, host: '127.0.0.1', port: 0, bucket: BUCKET, allowedOrigins: ['http://localhost'] });
    s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

  it('lists each part, whole, as soon as its 200 is out, and assembles the object from every byte', async () => {
    const Key = 'incoming/parts/whole';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    // Many parts at once keep the file system busy: the window a short part would show in.
    const parts = Array.from({ length: 12 }, () => randomBytes(5 * MiB));
    const seen = await Promise.all(
      parts.map(async (Body, i) => {
        const PartNumber = i + 1;
        const { ETag } = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber, Body }));
        const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
        return { PartNumber, ETag, listed: listed.Parts?.find((p) => p.PartNumber === PartNumber) };
      }),
    );
    for (const { PartNumber, ETag, listed } of seen) {
      expect(listed, `part ${PartNumber} is listed once answered`).toMatchObject({ ETag, Size: 5 * MiB });
      expect(ETag?.replace(/"/g, '')).toBe(md5(parts[PartNumber - 1]!));
    }

    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: seen.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(12 * 5 * MiB);
    expect(md5(bytes)).toBe(md5(Buffer.concat(parts)));
  }, 60_000);

  /** A part's PUT sent by hand, so that it can stop half-way (a page reload) or pause. */
  const partPut = (Key: string, UploadId: string, partNumber: number, length: number) => {
    const url = new URL(`${server.endpoint}/${BUCKET}/${Key}?partNumber=${partNumber}&uploadId=${UploadId}`);
    const put = request(url, { method: 'PUT', headers: { 'content-length': String(length) } });
    const answer = new Promise<{ status: number; etag: string | undefined }>((done, fail) => {
      put.on('response', (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? 0, etag: res.headers.etag }));
      });
      put.on('error', fail);
    });
    answer.catch(() => undefined);
    const send = (bytes: Buffer) => new Promise<void>((done) => put.write(bytes, () => done()));
    return { put, answer, send };
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('keeps nothing of a part whose request is cut, not even a file beside it', async () => {
    const Key = 'incoming/parts/cut';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const cut = partPut(Key, UploadId!, 1, 5 * MiB);
    // A page reload: the first MiB goes out, then the connection closes.
    await cut.send(randomBytes(MiB));
    await pause(200);
    cut.put.destroy();
    const uploads = join(dir, BUCKET, '._S3rver_uploads', UploadId!);
    // The server notices the cut a moment later.
    let files: string[] = [];
    for (let waited = 0; waited < 5_000; waited += 100) {
      // The upload's own `key` and `metadata` stay; anything of part 1 (`1`, `1.md5`, `1.<uuid>.arriving`) must go.
      files = (await readdir(uploads)).filter((name) => name.startsWith('1'));
      if (files.length === 0) break;
      await pause(100);
    }
    expect(files).toEqual([]);
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(listed.Parts ?? []).toEqual([]);
  });

  it('takes a part sent again while the first try is being cut: the cut one removes only its own bytes', async () => {
    const Key = 'incoming/parts/again';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const bytes = randomBytes(5 * MiB);
    const first = partPut(Key, UploadId!, 1, bytes.length);
    await first.send(bytes.subarray(0, MiB));
    const again = partPut(Key, UploadId!, 1, bytes.length);
    await again.send(bytes.subarray(0, 2 * MiB));
    await pause(200);
    // The first try dies while the second is half-way; the second then finishes.
    first.put.destroy();
    await pause(500);
    await again.send(bytes.subarray(2 * MiB));
    again.put.end();
    const answer = await again.answer;
    expect(answer.status).toBe(200);
    expect(answer.etag?.replace(/"/g, '')).toBe(md5(bytes));
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(listed.Parts).toEqual([expect.objectContaining({ PartNumber: 1, ETag: answer.etag, Size: bytes.length })]);
  });
});

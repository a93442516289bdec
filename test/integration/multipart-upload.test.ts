import { ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import type { MediaRecord, MultipartTicket, PartUrlsAnswer, Problem, UploadedPartsAnswer } from '@media/core';
import { LOCAL_S3_CREDENTIALS } from '@media/local';
import { sweep } from '@media/service/processing';
import { incomingKey } from '@media/storage';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueTenant } from '../support/database';
import { tenantBytes } from '../support/media-rows';
import { startTestStack, type TestStack } from '../support/test-stack';
import { isolatedDatabase } from '../pipeline/support/isolated-database';
import { expectedQuerySignature } from '../support/sigv4-query';

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/**
 * Multipart uploads through the routes against the local S3 server: the browser's way for large
 * files (parts PUT straight to storage, resumable), with the service checking the parts before it
 * assembles them. The sweeper runs here, so the file has a database of its own.
 */
describe('multipart uploads', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let photo: Buffer;

  beforeAll(async () => {
    database = await isolatedDatabase();
    stack = await startTestStack({
      databaseUrl: database.url,
      env: {
        MEDIA_MULTIPART_PART_BYTES: String(PART),
        MEDIA_MULTIPART_THRESHOLD_BYTES: String(10 * MiB),
        MEDIA_PENDING_GRACE_SECONDS: '0',
      },
    });
    // Noise does not compress: a PNG of 1800 × 1200 pixels is about 6.5 MB, two parts of 5 MiB.
    photo = await sharp(randomBytes(1800 * 1200 * 3), { raw: { width: 1800, height: 1200, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
  });
  afterAll(async () => {
    await stack?.close();
    await database?.drop();
  });

  const teacher = async () => {
    const tenant = uniqueTenant();
    return { tenant, token: await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: [] }) };
  };
  const start = async (token: string, size = photo.length) => {
    const res = await stack.api<MultipartTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'general', contentType: 'image/png', size, filename: 'big.png', multipart: true },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json;
  };
  const slice = (n: number) => photo.subarray((n - 1) * PART, n * PART);
  /** Signs and PUTs the given parts; the ETag header is what a browser reads (CORS exposes it). */
  const sendParts = async (token: string, mediaId: string, numbers: number[], body = slice) => {
    const signed = await stack.api<PartUrlsAnswer>('POST', `/v1/uploads/${mediaId}/parts`, { token, body: { partNumbers: numbers } });
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    const etags: { partNumber: number; etag: string }[] = [];
    for (const part of signed.json.parts) {
      const res = await fetch(part.url, { method: 'PUT', body: new Uint8Array(body(part.partNumber)) });
      expect(res.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag')! });
    }
    return etags;
  };
  const listed = async (token: string, mediaId: string) => stack.api<UploadedPartsAnswer>('GET', `/v1/uploads/${mediaId}/parts`, { token });

  it('plans the parts: multipart is required at the threshold and allowed only above 5 MiB', async () => {
    const { token } = await teacher();
    const ticket = await start(token);
    expect(ticket.multipart).toMatchObject({ partSize: PART, partCount: 2 });
    expect(ticket.maxBytes).toBe(photo.length);

    const tooBigForOnePost = await stack.api<Problem>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'general', contentType: 'video/mp4', size: 10 * MiB },
    });
    expect(tooBigForOnePost.status).toBe(400);
    expect(tooBigForOnePost.json.code).toBe('VALIDATION_FAILED');
    const tooSmallForParts = await stack.api<Problem>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'general', contentType: 'image/png', size: 1000, multipart: true },
    });
    expect(tooSmallForParts.status).toBe(400);
  });

  it('resumes after an interruption: the parts already sent are listed, only the rest is sent, and the file ends ready', async () => {
    const { token } = await teacher();
    const ticket = await start(token);
    const first = await sendParts(token, ticket.mediaId, [1]);
    // The page reloads: all the client knows is the media id; storage says what arrived.
    const resumed = await listed(token, ticket.mediaId);
    expect(resumed.status).toBe(200);
    expect(resumed.json.parts).toEqual([{ partNumber: 1, etag: first[0]!.etag, size: PART }]);
    const rest = await sendParts(token, ticket.mediaId, [2]);

    const done = await stack.api<MediaRecord>('POST', `/v1/uploads/${ticket.mediaId}/complete`, {
      token,
      body: { parts: [...resumed.json.parts.map(({ partNumber, etag }) => ({ partNumber, etag })), ...rest] },
    });
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect(['processing', 'ready']).toContain(done.json.status);
    const ready = await stack.waitForStatus(ticket.mediaId, token);
    expect(ready).toMatchObject({ status: 'ready', kind: 'image', width: 1800, height: 1200 });
    expect(ready.variants.map((v) => v.name)).toEqual(['original', 'thumb', 'small', 'medium', 'large']);
  });

  it('refuses a completion naming fewer parts than planned, and one whose parts hold less than declared', async () => {
    const { token } = await teacher();
    const ticket = await start(token);
    const parts = await sendParts(token, ticket.mediaId, [1, 2]);
    const fewer = await stack.api<Problem>('POST', `/v1/uploads/${ticket.mediaId}/complete`, { token, body: { parts: parts.slice(0, 1) } });
    expect(fewer.status).toBe(409);
    expect(fewer.json.code).toBe('UPLOAD_MISMATCH');
    const wrongEtag = await stack.api<Problem>('POST', `/v1/uploads/${ticket.mediaId}/complete`, {
      token,
      body: { parts: [parts[0], { partNumber: 2, etag: '"0123456789abcdef0123456789abcdef"' }] },
    });
    expect(wrongEtag.json.code).toBe('UPLOAD_MISMATCH');

    // Declared a byte more than is sent: the last part is short of it.
    const liar = await start(token, photo.length + 1);
    const sent = await sendParts(token, liar.mediaId, [1, 2]);
    const short = await stack.api<Problem>('POST', `/v1/uploads/${liar.mediaId}/complete`, { token, body: { parts: sent } });
    expect(short.status).toBe(409);
    expect(short.json.detail).toContain(`${photo.length} bytes; ${photo.length + 1} were declared`);

    // A first part shorter than the plan says.
    const shortFirst = await start(token);
    const uneven = await sendParts(token, shortFirst.mediaId, [1, 2], (n) => (n === 1 ? slice(1).subarray(1) : slice(2)));
    const refused = await stack.api<Problem>('POST', `/v1/uploads/${shortFirst.mediaId}/complete`, { token, body: { parts: uneven } });
    expect(refused.json.code).toBe('UPLOAD_MISMATCH');
    expect((await stack.api<MediaRecord>('GET', `/v1/media/${shortFirst.mediaId}`, { token })).json.status, 'still open to fix').toBe(
      'pending',
    );
  });

  it('signs each part URL for its planned length only: every part but the last is partSize, the last the rest', async () => {
    const { token } = await teacher();
    const ticket = await start(token);
    const signed = await stack.api<PartUrlsAnswer>('POST', `/v1/uploads/${ticket.mediaId}/parts`, { token, body: { partNumbers: [1, 2] } });
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    const planned = new Map([
      [1, PART],
      [2, photo.length - PART],
    ]);
    for (const part of signed.json.parts) {
      const url = new URL(part.url);
      expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';'), `part ${part.partNumber}`).toContain('content-length');
      // The local S3 server checks no signature: S3's own check is redone here, from the specification.
      const signatureFor = (length: number) =>
        expectedQuerySignature(part.url, 'PUT', { 'content-length': String(length) }, LOCAL_S3_CREDENTIALS.secretAccessKey);
      const length = planned.get(part.partNumber)!;
      expect(url.searchParams.get('X-Amz-Signature'), `part ${part.partNumber} holds ${length} bytes`).toBe(signatureFor(length));
      expect(url.searchParams.get('X-Amz-Signature'), 'a 20 MB PUT into a 5 MiB part').not.toBe(signatureFor(20_000_000));
      expect(url.searchParams.get('X-Amz-Signature'), 'a byte more').not.toBe(signatureFor(length + 1));
      // A checksum of the empty body in the URL would make S3 refuse every real part.
      expect([...url.searchParams.keys()].filter((name) => name.toLowerCase().startsWith('x-amz-checksum'))).toEqual([]);
    }
  });

  it('signs parts, lists and completes only for the uploader', async () => {
    const { tenant, token } = await teacher();
    const other = await stack.token({ role: 'teacher', tenant, sub: 't-2', classrooms: [] });
    const ticket = await start(token);
    for (const [method, path, body] of [
      ['POST', `/v1/uploads/${ticket.mediaId}/parts`, { partNumbers: [1] }],
      ['GET', `/v1/uploads/${ticket.mediaId}/parts`, undefined],
      ['POST', `/v1/uploads/${ticket.mediaId}/complete`, { parts: [{ partNumber: 1, etag: 'x' }] }],
      ['DELETE', `/v1/uploads/${ticket.mediaId}`, undefined],
    ] as const) {
      expect((await stack.api(method, path, { token: other, body })).status, `${method} ${path}`).toBe(404);
    }
    const beyond = await stack.api<Problem>('POST', `/v1/uploads/${ticket.mediaId}/parts`, { token, body: { partNumbers: [3] } });
    expect(beyond.status).toBe(400);
  });

  it('aborts: the record becomes expired, its reservation ends and storage drops the parts', async () => {
    const { tenant, token } = await teacher();
    const ticket = await start(token);
    await sendParts(token, ticket.mediaId, [1]);
    const held = () => tenantBytes(stack.deps.db, tenant);
    expect(await held()).toBe(photo.length);

    expect((await stack.api('DELETE', `/v1/uploads/${ticket.mediaId}`, { token })).status).toBe(204);
    expect((await stack.api<MediaRecord>('GET', `/v1/media/${ticket.mediaId}`, { token })).json.status).toBe('expired');
    expect(await held()).toBe(0);
    expect((await listed(token, ticket.mediaId)).status).toBe(409);
    const s3 = new S3Client({ region: 'us-east-1', endpoint: stack.s3Endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
    await expect(
      s3.send(
        new ListPartsCommand({ Bucket: stack.bucket, Key: incomingKey(tenant, ticket.mediaId), UploadId: ticket.multipart.uploadId }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect((await stack.api('DELETE', `/v1/uploads/${ticket.mediaId}`, { token })).status, 'aborted once').toBe(409);
  });

  it('expires an abandoned upload: the sweeper aborts it after its expiry', async () => {
    const { tenant, token } = await teacher();
    const ticket = await start(token);
    await sendParts(token, ticket.mediaId, [1]);
    await sweep(stack.deps);
    expect((await listed(token, ticket.mediaId)).status, 'not yet expired').toBe(200);

    await stack.deps.db
      .updateTable('media')
      .set({ uploadExpiresAt: new Date(Date.now() - 1000) })
      .where('id', '=', ticket.mediaId)
      .execute();
    expect((await sweep(stack.deps)).expired).toBe(1);
    expect((await stack.api<MediaRecord>('GET', `/v1/media/${ticket.mediaId}`, { token })).json.status).toBe('expired');
    expect(await stack.deps.storage.listParts(incomingKey(tenant, ticket.mediaId), ticket.multipart.uploadId)).toBeNull();
  });
});

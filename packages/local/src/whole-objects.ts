import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

/** Where s3rver keeps the parts of an unfinished multipart upload: `<that>/<partNumber>`. */
export const uploadDir = (store: S3rver['store'], bucket: string, uploadId: string) =>
  join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);

/**
 * Writes `content` beside `path` and resolves once every byte is written to the OS, with where it
 * lies, its size and its MD5; the caller renames it into place. A cut stream leaves nothing.
 */
async function stageBeside(content: Buffer | NodeJS.ReadableStream, path: string): Promise<{ staging: string; size: number; md5: string }> {
  await mkdir(dirname(path), { recursive: true });
  // Not an s3rver file name (objects end in `._S3rver_object`, parts are numbers): never listed, never served.
  // One name per request: a cut request clearing its file never takes the bytes of another sending the same part.
  const staging = `${path}.${randomUUID()}.arriving`;
  const md5 = createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  try {
    // Resolves once the file stream has finished, not once the bytes have passed through.
    await pipeline(source, measure, createWriteStream(staging));
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
  return { staging, size, md5: md5.digest('hex') };
}

/**
 * s3rver writes an object or a part in place and answers once the bytes have passed through rather
 * than once they are written. A stack killed meanwhile leaves a cut object under the key, which the
 * restarted stack would process and reject although the client posts it again, or an object cut
 * short although its `204` went out. A part answered `200` may still be short on disk when the
 * client lists or completes the upload right after: ListParts leaves it out, or the object is
 * assembled from its first bytes. Here the bytes go beside their name, are written out, then
 * renamed into place before the answer: an object or a part is there whole, or not at all.
 */
export function writeObjectsWhole(server: S3rver): void {
  const store = server.store;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const { staging, size, md5 } = await stageBeside(object.content, objectPath);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    await rename(staging, objectPath);
    return { size, md5 };
  };
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const partPath = join(uploadDir(store, bucket, uploadId), String(Number(partNumber)));
    const { staging, size, md5 } = await stageBeside(content, partPath);
    await rename(staging, partPath);
    // The checksum last: ListParts counts a part only once it has both.
    await writeFile(`${partPath}.md5`, md5);
    return { size, md5 };
  };
}

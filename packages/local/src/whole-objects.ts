import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

/**
 * s3rver writes an object in place, under its key, and answers once the bytes have passed through
 * rather than once they are written. A stack killed meanwhile leaves a cut object under the key,
 * which the restarted stack would process and reject although the client posts it again, or an
 * object cut short although its `204` went out. Here the bytes go beside the key, are written out,
 * then renamed into place before the answer: an object is there whole, or not at all.
 */
export function writeObjectsWhole(server: S3rver): void {
  const store = server.store;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    // Not an s3rver object name (those end in `._S3rver_object`): never listed, never served.
    const staging = `${objectPath}.arriving`;
    const md5 = createHash('md5');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      // Resolves once the file stream has finished: every byte is written to the OS.
      await pipeline(content, measure, createWriteStream(staging));
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(staging, objectPath);
    return { size, md5: digest };
  };
}

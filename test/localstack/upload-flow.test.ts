import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { LOCALSTACK_OUTPUTS, LOCALSTACK_STACK, probeLocalStack, START_LOCALSTACK_HINT } from '../../infra/lib/localstack';
import { mintDevToken } from '../../packages/local/src/dev-token';
import { makePhoto } from '../fixtures/photos';

/**
 * The foundation's user story against the real stack on LocalStack (the CDK app's `localstack`
 * profile, deployed by `npm run deploy:local`): request, POST to S3, S3 event → SQS → process-upload,
 * ready with derivatives, a presigned GET, delete. Skips, saying why, when LocalStack is not there.
 */
const probe = await probeLocalStack();
const outputs: Record<string, string> | undefined =
  probe.ok && existsSync(LOCALSTACK_OUTPUTS) ? JSON.parse(readFileSync(LOCALSTACK_OUTPUTS, 'utf8'))[LOCALSTACK_STACK] : undefined;
const skipReason = !probe.ok
  ? `${probe.reason}; ${START_LOCALSTACK_HINT}`
  : !outputs
    ? `LocalStack answers, but ${LOCALSTACK_OUTPUTS} has no ${LOCALSTACK_STACK} outputs: run \`npm run deploy:local\``
    : undefined;
if (skipReason) console.warn(`test:localstack skipped: ${skipReason}`);

const tenant = `school-ls-${Date.now()}`;

async function call(base: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function postToS3(upload: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'photo');
  return fetch(upload.url, { method: 'POST', body: form });
}

describe.skipIf(!!skipReason)(`upload flow on LocalStack${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const urls = outputs ?? {};
  const api = {
    upload: urls.RequestUploadUrl!,
    download: urls.GetDownloadUrl!,
    media: urls.MediaApiUrl!,
  };

  async function waitForStatus(mediaId: string, token: string, timeoutMs = 240_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await call(api.media, 'GET', `/v1/media/${mediaId}`, token);
      if (json?.status !== 'pending' && json?.status !== 'processing') return json;
      if (Date.now() > deadline) throw new Error(`media ${mediaId} still ${json?.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }

  it('takes a photo from request to ready derivatives, serves one, and deletes it all', { timeout: 300_000 }, async () => {
    const token = await mintDevToken({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const photo = await makePhoto({ width: 1600, height: 1200, orientation: 6, gps: true });

    const requested = await call(api.upload, 'POST', '/v1/uploads', token, {
      purpose: 'profile',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    expect(requested.status).toBe(201);
    const { mediaId, upload } = requested.json;
    expect(new URL(upload.url).host).toBe('localhost:4566');

    const posted = await postToS3(upload, photo, 'image/jpeg');
    expect(posted.status, await posted.clone().text()).toBeLessThan(300);

    const ready = await waitForStatus(mediaId, token);
    expect(ready).toMatchObject({ status: 'ready', width: 1200, height: 1600 });

    const download = await call(api.download, 'GET', `/v1/media/${mediaId}/download?variant=thumb`, token);
    expect(download.status).toBe(200);
    const thumb = Buffer.from(await (await fetch(download.json.url)).arrayBuffer());
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'webp', width: 256, height: 256 });

    expect((await call(api.media, 'DELETE', `/v1/media/${mediaId}`, token)).status).toBe(204);
    expect((await call(api.media, 'GET', `/v1/media/${mediaId}`, token)).status).toBe(404);
  });

  it('rejects a PNG declared as JPEG once S3 has it', { timeout: 300_000 }, async () => {
    const token = await mintDevToken({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const png = await makePhoto({ width: 800, height: 600, format: 'png' });
    const { json } = await call(api.upload, 'POST', '/v1/uploads', token, {
      purpose: 'profile',
      contentType: 'image/jpeg',
      size: png.length,
    });
    expect((await postToS3(json.upload, png, 'image/jpeg')).status).toBeLessThan(300);
    expect(await waitForStatus(json.mediaId, token)).toMatchObject({ status: 'rejected' });
  });

  it('has LocalStack enforce the POST policy: a file over the declared size is refused', { timeout: 60_000 }, async () => {
    const token = await mintDevToken({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const photo = await makePhoto({ width: 800, height: 600 });
    const { json } = await call(api.upload, 'POST', '/v1/uploads', token, { purpose: 'profile', contentType: 'image/jpeg', size: 100 });
    const posted = await postToS3(json.upload, photo, 'image/jpeg');
    expect(posted.status).toBe(400);
    expect(await posted.text()).toMatch(/EntityTooLarge/);
  });
});

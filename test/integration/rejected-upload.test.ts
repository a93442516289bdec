import type { Problem, UploadTicket } from '@media/core';
import { removeMetadata } from '@media/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mp4Clip } from '../fixtures/images/bytes';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

describe('an upload whose bytes are not what was declared', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it('rejects a PNG declared as JPEG, deletes the object and writes no derivative', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const png = await makePhoto({ width: 300, height: 200, format: 'png' });
    const { json } = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: png.length },
    });
    // The local S3 server does not enforce the policy's Content-Type: the processor must catch it.
    await stack.postToS3(json.upload, png, 'image/jpeg');
    const rejected = await stack.waitForStatus(json.mediaId, token);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection?.code).toBe('TYPE_MISMATCH');
    expect(rejected.variants).toEqual([]);
    expect(await stack.deps.storage.listKeys(`incoming/${tenant}/`)).toEqual([]);
    expect(await stack.deps.storage.listKeys(`derivatives/${tenant}/`)).toEqual([]);
    const download = await stack.api('GET', `/v1/media/${json.mediaId}/download?variant=thumb`, { token });
    expect(download.status).toBe(409);
  });

  it('rejects an object larger than its declared size', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const photo = await makePhoto({ width: 300, height: 200 });
    const { json } = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: 100 },
    });
    await stack.postToS3(json.upload, photo, 'image/jpeg');
    const rejected = await stack.waitForStatus(json.mediaId, token);
    expect(rejected.rejection?.code).toBe('SIZE_MISMATCH');
  });

  it('answers bad requests with problem+json, never a 500', async () => {
    const token = await stack.token({ role: 'student', tenant: uniqueTenant(), sub: 's-1' });
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/uploads', '{not json', 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/uploads', { purpose: 'selfie', contentType: 'image/jpeg', size: 1 }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/uploads', { purpose: 'profile', contentType: 'image/jpeg', size: -1 }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/uploads', { purpose: 'profile', contentType: 'image/svg+xml', size: 10 }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/uploads', { purpose: 'profile', contentType: 'image/jpeg', size: 1e9 }, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/uploads', { purpose: 'profile', contentType: 'image/jpeg', size: 10, extra: 1 }, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/media/not-a-uuid', undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/media/%E0%A4%A', undefined, 404, 'NOT_FOUND'],
      ['DELETE', '/v1/media/%E0%A4%A/download', undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/v1/media?limit=1000', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/media/0196b2a4-7c1e-7d3a-9f00-123456789abc/download?variant=huge', undefined, 400, 'VALIDATION_FAILED'],
      ['PATCH', '/v1/media', undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/v2/nothing', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await stack.api<Problem | undefined>(method, path, { token, body });
      expect({ method, path, status: res.status, code: res.json?.code }).toEqual({ method, path, status, code });
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    const anonymous = await stack.api<Problem>('GET', '/v1/media');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe('UNAUTHENTICATED');
  });

  it('answers health and the contract without a token, as API routes', async () => {
    const health = await stack.api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const contract = await stack.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(contract.status).toBe(200);
    expect(contract.json.openapi).toBe('3.1.0');
    expect(Object.keys(contract.json.paths)).toContain('/v1/uploads');
  });

  it("keeps a motion photo's still image as the original and cuts its video trailer off", async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const still = await makePhoto({ width: 400, height: 300 });
    const motion = Buffer.concat([still, mp4Clip()]);
    const { json } = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: motion.length, filename: 'PXL_0001.MP.jpg' },
    });
    await stack.postToS3(json.upload, motion, 'image/jpeg');
    const ready = await stack.waitForStatus(json.mediaId, token);
    expect(ready.status).toBe('ready');
    // The still alone, and without its camera EXIF like every original (clean-originals.test.ts).
    const expected = (await removeMetadata(still, 'image/jpeg', 1, 50e6)).data;
    expect(ready.size).toBe(expected.length);
    const stored = await stack.deps.storage.getBytes(`originals/${tenant}/${json.mediaId}`);
    expect(stored?.equals(expected)).toBe(true);
  });
});

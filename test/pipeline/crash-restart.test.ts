import './support/quiet';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { MediaRecord, UploadTicket } from '@media/core';
import { createDatabase } from '@media/db';
import { LOCAL_S3_CREDENTIALS, mintDevToken } from '@media/local';
import { MediaStorage } from '@media/storage';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { freePort, startStackProcess, stopProcess } from './support/child-stack';
import { isolatedDatabase } from './support/isolated-database';

/**
 * The local stack is killed with SIGKILL while it works through a batch, then started again on
 * the same data: every upload must still end ready (or rejected, for bad bytes), none stuck.
 */
describe('the local stack killed mid-batch and restarted', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  // A ceiling above the sum of what it holds: two stack starts and waits of up to 60, 90 and 30 s.
  it('finishes every upload after a SIGKILL: ready or rejected, nothing left processing, every result announced', {
    timeout: 400_000,
  }, async () => {
    const database = await isolatedDatabase();
    cleanup.push(() => database.drop());
    const dataDir = await mkdtemp(join(tmpdir(), 'media-crash-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const [port, s3Port, sqsPort] = [await freePort(), await freePort(), await freePort()];
    const secret = 'crash-test-secret-0123456789';
    const env = {
      ...process.env,
      PORT: String(port),
      MEDIA_S3_PORT: String(s3Port),
      MEDIA_SQS_PORT: String(sqsPort),
      MEDIA_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      MEDIA_JWT_SECRET: secret,
      // A dead worker's lease runs out quickly, and the sweeper looks every second.
      MEDIA_PROCESSING_LEASE_SECONDS: '10',
      MEDIA_SWEEP_INTERVAL_SECONDS: '1',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // Processing is what is killed here; the face stage after `ready` has tests of its own (test/faces).
      MEDIA_FACES: 'off',
    };
    let running: ChildProcess | undefined;
    cleanup.push(async () => running && stopProcess(running, 'SIGKILL'));

    const first = await startStackProcess(env);
    running = first.child;
    const api = `http://127.0.0.1:${port}`;
    const tenant = uniqueTenant();
    const token = await mintDevToken({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] }, secret);
    const call = async <T>(method: string, path: string, body?: unknown) => {
      const res = await fetch(api + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as T };
    };

    const photo = await makePhoto({ width: 1600, height: 1200 });
    const photos = Array.from({ length: 10 }, () => photo);
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 9)]);
    const files = [...photos, garbage];
    const requested = await call<{ items: UploadTicket[] }>('POST', '/v1/uploads/batch', {
      items: files.map((f) => ({ purpose: 'general', contentType: 'image/jpeg', size: f.length })),
    });
    expect(requested.status).toBe(201);
    const ids: string[] = requested.json.items.map((i) => i.mediaId);
    await Promise.all(
      requested.json.items.map(async (item, i) => {
        const form = new FormData();
        for (const [k, v] of Object.entries(item.upload.fields)) form.append(k, v);
        form.append('file', new Blob([new Uint8Array(files[i]!)], { type: 'image/jpeg' }), `photo-${i}.jpg`);
        expect((await fetch(item.upload.url, { method: 'POST', body: form })).status).toBe(204);
      }),
    );

    const statuses = async () => Promise.all(ids.map(async (id) => (await call<MediaRecord>('GET', `/v1/media/${id}`)).json.status));
    // Kill it as soon as some work is done and some is not.
    let atKill: string[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      atKill = await statuses();
      if (atKill.some((s) => s === 'ready' || s === 'rejected')) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await stopProcess(first.child, 'SIGKILL');
    const unfinishedAtKill = atKill.filter((s) => s === 'pending' || s === 'processing').length;
    expect(unfinishedAtKill, `statuses when killed: ${atKill.join(', ')}`).toBeGreaterThan(0);

    const second = await startStackProcess(env);
    running = second.child;
    let final: string[] = [];
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
      final = await statuses();
      if (final.every((s) => s === 'ready' || s === 'rejected')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(final, second.output()).toEqual([...photos.map(() => 'ready'), 'rejected']);

    // Each result is announced: whatever was between its commit and its event at the kill is sent by
    // the sweeper once the dead worker's lease has run out.
    if (database.url) {
      const db = await createDatabase({ url: database.url, poolSize: 1 });
      cleanup.push(() => db.destroy());
      const unannounced = async () =>
        (await db.selectFrom('media').select('id').where('id', 'in', ids).where('eventPublishedAt', 'is', null).execute()).length;
      for (const deadline = Date.now() + 30_000; (await unannounced()) > 0 && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 250));
      expect(await unannounced()).toBe(0);
    }
    // Every ready item has exactly the objects its record lists; nothing is left in incoming/ (an
    // item killed between its commit and its clean-up is cleaned up with its late announcement).
    const storage = new MediaStorage({
      bucket: 'media-local',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${s3Port}`,
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
    });
    expect(await storage.listKeys(`incoming/${tenant}/`)).toEqual([]);
    for (const id of ids.slice(0, photos.length)) {
      const record = (await call<MediaRecord>('GET', `/v1/media/${id}`)).json;
      const stored = [
        ...(await storage.listKeys(`originals/${tenant}/${id}`)),
        ...(await storage.listKeys(`derivatives/${tenant}/${id}/`)),
      ];
      expect(stored).toHaveLength(record.variants.length);
    }
    storage.client.destroy();

    await stopProcess(second.child, 'SIGTERM');
  });
});

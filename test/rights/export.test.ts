import '../pipeline/support/quiet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExportRecord, MediaRecord, Principal } from '@media/core';
import type { Dependencies } from '@media/service';
import { runExport } from '@media/service/processing';
import { originalKey } from '@media/storage';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { upload } from '../pipeline/support/uploads';
import { withFaults, transientError } from '../pipeline/support/fault-injection';
import { appRoleDependencies, readyRows, unzip } from './support';

describe('the export of everything about a person (the right of access)', () => {
  let stack: TestStack;
  let app: Dependencies;

  beforeAll(async () => {
    const url = inject('databaseUrl');
    if (!url) throw new Error('the export test needs PostgreSQL (DATABASE_URL)');
    stack = await startTestStack();
    app = await appRoleDependencies(stack, url);
  });
  afterAll(async () => {
    await app?.db.destroy();
    await stack?.close();
  });

  const tokenOf = (role: Principal['role'], tenant: string, sub: string) => stack.token({ role, tenant, sub, classrooms: [] });

  it('writes one ZIP with the clean original of every ready item about the person and a manifest of their records', async () => {
    const tenant = uniqueTenant();
    const admin = await tokenOf('admin', tenant, 'admin-1');
    const teacher = await tokenOf('teacher', tenant, 'teacher-1');
    const photos = [await makePhoto({ width: 640, height: 480 }), await makePhoto({ width: 320, height: 240 })];
    const about = [];
    for (const [n, photo] of photos.entries()) {
      about.push((await upload(stack, admin, photo, { purpose: n === 0 ? 'profile' : 'general', subjectId: 'child-1' })).mediaId);
    }
    const elsewhere = (await upload(stack, admin, photos[0]!, { purpose: 'profile', subjectId: 'child-2' })).mediaId;
    for (const id of [...about, elsewhere]) expect((await stack.waitForStatus(id, admin)).status).toBe('ready');

    expect((await stack.api('POST', '/v1/subjects/child-1/export', { token: teacher })).status).toBe(403);
    const started = await stack.api<{ exportId: string; status: string }>('POST', '/v1/subjects/child-1/export', { token: admin });
    expect(started.status).toBe(202);
    expect(started.json.status).toBe('queued');
    // No worker has touched it yet (this stack leaves its rights-jobs queue unfed).
    const queued = await stack.api<ExportRecord>('GET', `/v1/exports/${started.json.exportId}`, { token: admin });
    expect(queued.json).toEqual({ exportId: started.json.exportId, status: 'queued', items: 0, bytes: 0 });

    expect((await runExport(app, started.json.exportId))?.status).toBe('done');
    const done = await stack.api<ExportRecord>('GET', `/v1/exports/${started.json.exportId}`, { token: admin });
    expect(done.json).toMatchObject({ status: 'done', items: 2 });
    expect(done.json.url).toContain(`exports/${tenant}/${started.json.exportId}.zip`);
    expect(new Date(done.json.expiresAt!).getTime()).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 1000);

    const zip = Buffer.from(await (await fetch(done.json.url!)).arrayBuffer());
    expect(zip.length).toBe(done.json.bytes);
    const files = await unzip(zip);
    expect([...files.keys()].sort()).toEqual(['manifest.json', ...about.map((id) => `media/${id}.jpeg`)].sort());
    for (const id of about) {
      expect(files.get(`media/${id}.jpeg`)!.equals((await stack.deps.storage.getBytes(originalKey(tenant, id)))!)).toBe(true);
    }
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as {
      subjectId: string;
      items: (MediaRecord & { file: string })[];
    };
    expect(manifest.subjectId).toBe('child-1');
    expect(manifest.items.map((item) => [item.id, item.file, item.subjectId, item.status])).toEqual(
      about.map((id) => [id, `media/${id}.jpeg`, 'child-1', 'ready']),
    );

    // Asking for the URL is a download like any other: audited.
    const audit = await stack.api<{ items: { action: string; subjectId: string }[] }>('GET', '/v1/audit?subjectId=child-1', {
      token: admin,
    });
    expect(audit.json.items.map((e) => e.action)).toEqual(['download', 'export']);
  });

  it('starts the file again when the worker writing it failed half-way, once its lease has run out', async () => {
    const tenant = uniqueTenant();
    const admin = await tokenOf('admin', tenant, 'admin-1');
    const ids = await readyRows(stack, [
      { tenant, subjectId: 'child-3', purpose: 'profile', withObject: true },
      { tenant, subjectId: 'child-3', purpose: 'general', withObject: true },
    ]);
    const started = await stack.api<{ exportId: string }>('POST', '/v1/subjects/child-3/export', { token: admin });
    // Storage fails while the second photo is read: the file is never completed.
    const failing = withFaults(app, (call, phase) =>
      phase === 'before' && call.label.startsWith('storage.getStream') && call.mediaId === ids[1] ? transientError(call) : undefined,
    );
    await expect(runExport(failing, started.json.exportId)).rejects.toThrow();
    expect((await stack.api<ExportRecord>('GET', `/v1/exports/${started.json.exportId}`, { token: admin })).json.status).toBe('running');
    expect(await stack.deps.storage.listKeys(`exports/${tenant}/`)).toEqual([]);
    // Another worker cannot take it while the lease runs; once it has run out, one can.
    expect(await runExport(app, started.json.exportId)).toBeUndefined();
    await stack.deps.db
      .updateTable('rightsJob')
      .set({ leaseExpiresAt: new Date(Date.now() - 1000) })
      .where('id', '=', started.json.exportId)
      .execute();
    expect((await runExport(app, started.json.exportId))?.items).toBe(2);
    const done = await stack.api<ExportRecord>('GET', `/v1/exports/${started.json.exportId}`, { token: admin });
    const files = await unzip(Buffer.from(await (await fetch(done.json.url!)).arrayBuffer()));
    expect([...files.keys()].sort()).toEqual(['manifest.json', ...ids.map((id) => `media/${id}.jpeg`)].sort());
  });
});

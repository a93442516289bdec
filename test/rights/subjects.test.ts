import '../pipeline/support/quiet';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DownloadAnswer,
  DownloadUrlsAnswer,
  ErasureRecord,
  ExportRecord,
  MediaRecord,
  Principal,
  Problem,
  UploadTicket,
} from '@media/core';
import { recordAuditRetention } from '@media/db';
import { runErasure, type Dependencies } from '@media/service';
import { runExport, sweep } from '@media/service/processing';
import { makePhoto } from '../fixtures/photos';
import { appDatabaseUrl, uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { isolatedDatabase } from '../pipeline/support/isolated-database';
import { objectsOf } from '../pipeline/support/uploads';
import { appRoleDependencies, readyRows, unzip } from './support';

const DAY = 86_400_000;
const PERMISSION_DENIED = '42501';

/**
 * Subjects are the people in a photo: several per item, none unless named, never a service; the
 * rights (erasure, export, consent to recognition) follow every item naming a person, within what
 * the requester may read. Real PostgreSQL, the local S3 server and the real image pipeline; the
 * background work signed in as the DML-only app role. A database of its own: the audit retention
 * this file records is the database's.
 */
describe('subjects are the people in a photo', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let app: Dependencies;
  let photo: Buffer;

  beforeAll(async () => {
    database = await isolatedDatabase();
    if (!database.url) throw new Error('the subject tests need PostgreSQL (DATABASE_URL)');
    stack = await startTestStack({ databaseUrl: database.url });
    app = await appRoleDependencies(stack, database.url);
    // A camera's photo: it says when it was taken, so the record has a capture time to lose.
    photo = await sharp(await makePhoto({ width: 400, height: 300 }))
      .jpeg()
      .withExif({ IFD0: { Make: 'CameraMaker' }, IFD2: { DateTimeOriginal: '2024:03:02 08:15:04' } })
      .toBuffer();
  });
  afterAll(async () => {
    await app?.db.destroy();
    await stack?.close();
    await database?.drop();
  });

  const tokenOf = (role: Principal['role'], tenant: string, sub: string, classrooms: string[] = []) =>
    stack.token({ role, tenant, sub, classrooms });
  const school = async () => {
    const tenant = uniqueTenant();
    return {
      tenant,
      admin: await tokenOf('admin', tenant, 'admin-1'),
      teacher: await tokenOf('teacher', tenant, 'teacher-1', ['c-1']),
      users: await tokenOf('service', tenant, 'user-service'),
      ai: await tokenOf('service', tenant, 'ai-service'),
      attendance: await tokenOf('service', tenant, 'attendance-service'),
      analytics: await tokenOf('service', tenant, 'analytics-service'),
      pupil: (sub: string) => tokenOf('student', tenant, sub, ['c-1']),
    };
  };

  /** Uploads the photo through the API and the S3 server and waits for it to be processed. */
  const uploadReady = async (token: string, body: Record<string, unknown>): Promise<MediaRecord> => {
    const asked = await stack.api<UploadTicket & Problem>('POST', '/v1/uploads', {
      token,
      body: { contentType: 'image/jpeg', size: photo.length, filename: 'class of 2024.jpg', ...body },
    });
    expect(asked.status, JSON.stringify(asked.json)).toBe(201);
    expect((await stack.postToS3(asked.json.upload, photo, 'image/jpeg')).status).toBe(204);
    const record = await stack.waitForStatus(asked.json.mediaId, token, ['ready', 'rejected'], 120_000);
    expect(record.status).toBe('ready');
    return record;
  };

  const exportOf = async (token: string, subjectId: string) => {
    const started = await stack.api<{ exportId: string }>('POST', `/v1/subjects/${subjectId}/export`, { token });
    expect(started.status).toBe(202);
    expect((await runExport(app, started.json.exportId))?.status).toBe('done');
    const done = await stack.api<ExportRecord>('GET', `/v1/exports/${started.json.exportId}`, { token });
    const files = await unzip(Buffer.from(await (await fetch(done.json.url!)).arrayBuffer()));
    return JSON.parse(files.get('manifest.json')!.toString('utf8')) as { items: (MediaRecord & { file: string })[] };
  };

  const erase = async (token: string, subjectId: string): Promise<ErasureRecord> => {
    const started = await stack.api<{ erasureId: string }>('POST', `/v1/subjects/${subjectId}/erasure`, { token });
    expect(started.status).toBe(202);
    await runErasure(app, started.json.erasureId);
    return (await stack.api<ErasureRecord>('GET', `/v1/erasures/${started.json.erasureId}`, { token })).json;
  };

  describe('naming people', () => {
    it('files an upload naming nobody as about nobody, not about its uploader', async () => {
      const s = await school();
      const record = await uploadReady(s.teacher, { purpose: 'attendance', classroomId: 'c-1' });
      expect(record).toMatchObject({ subjectId: null, subjectIds: [], uploadedBy: 'teacher-1' });
    });

    it('names every child of a class photo, each of whom sees it as their own, and no other child', async () => {
      const s = await school();
      const record = await uploadReady(s.admin, { purpose: 'general', subjectIds: ['child-1', 'child-2', 'child-3'] });
      expect(record).toMatchObject({ subjectId: 'child-1', subjectIds: ['child-1', 'child-2', 'child-3'] });
      const second = await s.pupil('child-2');
      expect((await stack.api<MediaRecord>('GET', `/v1/media/${record.id}`, { token: second })).status).toBe(200);
      const listed = await stack.api<{ items: MediaRecord[] }>('GET', '/v1/media', { token: second });
      expect(listed.json.items.map((item) => item.id)).toEqual([record.id]);
      const byAdmin = await stack.api<{ items: MediaRecord[] }>('GET', '/v1/media?subjectId=child-3', { token: s.admin });
      expect(byAdmin.json.items.map((item) => item.id)).toEqual([record.id]);
      expect((await stack.api('GET', `/v1/media/${record.id}`, { token: await s.pupil('child-4') })).status).toBe(404);
    });

    it('lets a pupil delete a photo naming only them, never a class photo naming other children too', async () => {
      const s = await school();
      const shared = await uploadReady(s.admin, { purpose: 'general', subjectIds: ['child-1', 'child-2'] });
      const own = await uploadReady(s.admin, { purpose: 'general', subjectIds: ['child-1'] });
      const pupil = await s.pupil('child-1');
      const refused = await stack.api<Problem>('DELETE', `/v1/media/${shared.id}`, { token: pupil });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({ code: 'FORBIDDEN' });
      expect(refused.json.detail).toMatch(/names other people too/);
      expect((await stack.api<MediaRecord>('GET', `/v1/media/${shared.id}`, { token: await s.pupil('child-2') })).json.status).toBe(
        'ready',
      );
      expect((await stack.api('DELETE', `/v1/media/${own.id}`, { token: pupil })).status).toBe(204);
    });

    it('refuses a service as a subject, of an upload or of a right, with INVALID_SUBJECT', async () => {
      const s = await school();
      const upload = await stack.api<Problem>('POST', '/v1/uploads', {
        token: s.attendance,
        body: {
          purpose: 'attendance',
          contentType: 'image/jpeg',
          size: 100,
          classroomId: 'c-1',
          subjectIds: ['child-1', 'attendance-service'],
        },
      });
      expect([upload.status, upload.json.code]).toEqual([400, 'INVALID_SUBJECT']);
      for (const path of ['erasure', 'export']) {
        const answer = await stack.api<Problem>('POST', `/v1/subjects/attendance-service/${path}`, { token: s.users });
        expect([answer.status, answer.json.code], path).toEqual([400, 'INVALID_SUBJECT']);
      }
      const disagree = await stack.api<Problem>('POST', '/v1/uploads', {
        token: s.admin,
        body: { purpose: 'general', contentType: 'image/jpeg', size: 100, subjectId: 'child-2', subjectIds: ['child-1', 'child-2'] },
      });
      expect([disagree.status, disagree.json.code]).toEqual([400, 'VALIDATION_FAILED']);
    });
  });

  describe('export', () => {
    it("gives a child's export every class photo naming them, naming only them; a teacher's export holds no children's class photos", async () => {
      const s = await school();
      const classPhoto = await uploadReady(s.admin, { purpose: 'attendance', classroomId: 'c-1', subjectIds: ['child-1', 'child-2'] });
      const ownProfile = await uploadReady(s.admin, { purpose: 'profile', subjectId: 'child-2' });
      const teachersClass = await uploadReady(s.teacher, { purpose: 'attendance', classroomId: 'c-1' });

      const child = await exportOf(s.admin, 'child-2');
      expect(child.items.map((item) => item.id).sort()).toEqual([classPhoto.id, ownProfile.id].sort());
      const shared = child.items.find((item) => item.id === classPhoto.id)!;
      expect([shared.subjectId, shared.subjectIds]).toEqual(['child-2', ['child-2']]);

      const teacher = await exportOf(s.admin, 'teacher-1');
      expect(teacher.items.map((item) => item.id)).not.toContain(teachersClass.id);
      expect(teacher.items).toEqual([]);
    });

    it("limits user-service's export to profile photos, the only ones it may read", async () => {
      const s = await school();
      const [profile] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'profile', withObject: true },
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'attendance', withObject: true },
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'training', withObject: true },
      ]);
      expect((await exportOf(s.users, 'child-5')).items.map((item) => [item.id, item.purpose])).toEqual([[profile, 'profile']]);
      expect((await exportOf(s.admin, 'child-5')).items.map((item) => item.purpose).sort()).toEqual(['attendance', 'profile', 'training']);
    });
  });

  describe('erasure', () => {
    it('untags the child from a shared class photo (kept for the others) and deletes the photos naming them alone', async () => {
      const s = await school();
      const shared = await uploadReady(s.admin, {
        purpose: 'attendance',
        classroomId: 'c-1',
        subjectIds: ['child-1', 'child-2', 'child-3'],
      });
      const alone = await uploadReady(s.admin, { purpose: 'general', subjectIds: ['child-2'] });

      expect(await erase(s.admin, 'child-2')).toMatchObject({ status: 'done', total: 2, deleted: 1, untagged: 1, heldBack: 0 });

      const kept = await stack.api<MediaRecord>('GET', `/v1/media/${shared.id}`, { token: s.admin });
      expect(kept.json).toMatchObject({ status: 'ready', subjectId: 'child-1', subjectIds: ['child-1', 'child-3'] });
      expect((await stack.api('GET', `/v1/media/${shared.id}`, { token: await s.pupil('child-2') })).status).toBe(404);
      expect((await stack.api('GET', `/v1/media/${alone.id}`, { token: s.admin })).status).toBe(404);
      const named = await stack.deps.db
        .selectFrom('mediaSubjects')
        .select('mediaId')
        .where('tenant', '=', s.tenant)
        .where('subjectId', '=', 'child-2')
        .execute();
      expect(named).toEqual([]);
      // The first named child going moves the first subject on.
      expect(await erase(s.admin, 'child-1')).toMatchObject({ deleted: 0, untagged: 1 });
      expect((await stack.api<MediaRecord>('GET', `/v1/media/${shared.id}`, { token: s.admin })).json).toMatchObject({
        subjectId: 'child-3',
        subjectIds: ['child-3'],
      });
    });

    it("limits user-service's erasure to profile photos: attendance and training photos naming the person stay", async () => {
      const s = await school();
      const [profile, attendance, training] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-6', purpose: 'profile' },
        { tenant: s.tenant, subjectId: 'child-6', purpose: 'attendance' },
        { tenant: s.tenant, subjectId: 'child-6', purpose: 'training' },
      ]);
      expect(await erase(s.users, 'child-6')).toMatchObject({ status: 'done', total: 1, deleted: 1 });
      const statuses = await Promise.all(
        [profile!, attendance!, training!].map(async (id) => (await stack.deps.media.findById(id))?.status),
      );
      expect(statuses).toEqual(['deleted', 'ready', 'ready']);
    });

    it('leaves nothing of an erased photo: no file name, hashes, placeholder, capture time, subjects, classroom, objects or consent', async () => {
      const s = await school();
      const record = await uploadReady(s.admin, { purpose: 'attendance', classroomId: 'c-1', subjectIds: ['child-7'] });
      const before = (await stack.deps.media.findById(record.id))!;
      expect([before.filename, before.capturedAt, before.classroomId]).toEqual(['class of 2024.jpg', '2024-03-02T08:15:04', 'c-1']);
      expect([before.sha256, before.phash, before.placeholder].every((value) => value !== null)).toBe(true);
      await stack.api('PUT', '/v1/subjects/child-7/consent', { token: s.admin, body: { recognition: true, training: true } });

      expect(await erase(s.admin, 'child-7')).toMatchObject({ status: 'done', deleted: 1 });

      // The erasure purged its own item: no sweep ran.
      const row = (await stack.deps.media.findById(record.id))!;
      expect(row.status).toBe('deleted');
      expect(row.purgedAt).not.toBeNull();
      expect(await objectsOf(stack, s.tenant, record.id)).toEqual([]);
      expect({
        filename: row.filename,
        sha256: row.sha256,
        phash: row.phash,
        phashBands: [row.phashBand0, row.phashBand1, row.phashBand2, row.phashBand3],
        placeholder: row.placeholder,
        capturedAt: row.capturedAt,
        subjectId: row.subjectId,
        subjectIds: row.subjectIds,
        classroomId: row.classroomId,
      }).toEqual({
        filename: null,
        sha256: null,
        phash: null,
        phashBands: [null, null, null, null],
        placeholder: null,
        capturedAt: null,
        subjectId: null,
        subjectIds: [],
        classroomId: null,
      });
      // Who deleted it and when stay: the tombstone.
      expect([row.deletedBy, row.deletedAt !== null]).toEqual(['erasure', true]);
      expect(await stack.deps.db.selectFrom('mediaSubjects').selectAll().where('mediaId', '=', record.id).execute()).toEqual([]);
      expect(
        await stack.deps.db
          .selectFrom('subjectConsent')
          .selectAll()
          .where('tenant', '=', s.tenant)
          .where('subjectId', '=', 'child-7')
          .execute(),
      ).toEqual([]);
    });

    it('scrubs a photo deleted by DELETE too, once purged and announced', async () => {
      const s = await school();
      const record = await uploadReady(s.admin, { purpose: 'general', subjectIds: ['child-8'] });
      expect((await stack.api('DELETE', `/v1/media/${record.id}`, { token: s.admin })).status).toBe(204);
      await sweep(app);
      const row = (await stack.deps.media.findById(record.id))!;
      expect([row.status, row.filename, row.sha256, row.subjectIds, row.capturedAt]).toEqual(['deleted', null, null, [], null]);
    });
  });

  describe('consent to recognition', () => {
    it('refuses ai-service the ml variant of an attendance photo naming a child who refused recognition, single and batch', async () => {
      const s = await school();
      const [named, nobody] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-9', purpose: 'attendance' },
        { tenant: s.tenant, subjectId: 'child-9', purpose: 'attendance' },
      ]);
      // An attendance photo naming nobody needs no one's consent.
      await stack.deps.db.updateTable('media').set({ subjectIds: [] }).where('id', '=', nobody!).execute();
      await stack.api('PUT', '/v1/subjects/child-9/consent', { token: s.admin, body: { recognition: false, training: true } });

      const single = await stack.api<Problem>('GET', `/v1/media/${named}/download?variant=ml`, { token: s.ai });
      expect([single.status, single.json.code]).toEqual([403, 'CONSENT_REQUIRED']);
      expect((await stack.api<DownloadAnswer>('GET', `/v1/media/${nobody}/download?variant=ml`, { token: s.ai })).status).toBe(200);
      const batch = await stack.api<DownloadUrlsAnswer>('POST', '/v1/media/download-urls', {
        token: s.ai,
        body: { ids: [named, nobody], variant: 'ml' },
      });
      expect(batch.json.items.map((item) => ('error' in item ? item.error.code : 'url'))).toEqual(['CONSENT_REQUIRED', 'url']);
      // attendance-service's own use of the photo is not recognition by ai-service: unaffected.
      expect((await stack.api('GET', `/v1/media/${named}/download?variant=ml`, { token: s.attendance })).status).toBe(200);

      await stack.api('PUT', '/v1/subjects/child-9/consent', { token: s.admin, body: { recognition: true, training: false } });
      expect((await stack.api('GET', `/v1/media/${named}/download?variant=ml`, { token: s.ai })).status).toBe(200);
    });

    it('refuses the whole class photo when one of the children named refused', async () => {
      const s = await school();
      const record = await uploadReady(s.attendance, { purpose: 'attendance', classroomId: 'c-1', subjectIds: ['child-10', 'child-11'] });
      await stack.api('PUT', '/v1/subjects/child-10/consent', { token: s.admin, body: { recognition: true, training: false } });
      const answer = await stack.api<Problem>('GET', `/v1/media/${record.id}/download?variant=ml`, { token: s.ai });
      expect([answer.status, answer.json.code]).toEqual([403, 'CONSENT_REQUIRED']);
      await stack.api('PUT', '/v1/subjects/child-11/consent', { token: s.admin, body: { recognition: true, training: false } });
      expect((await stack.api('GET', `/v1/media/${record.id}/download?variant=ml`, { token: s.ai })).status).toBe(200);
    });
  });

  describe('analytics and the audit', () => {
    it('gives analytics-service counts per purpose, and refuses usage per subject with COUNTS_ONLY', async () => {
      const s = await school();
      await readyRows(stack, [{ tenant: s.tenant, subjectId: 'child-12', purpose: 'general' }]);
      const perSubject = await stack.api<Problem>('GET', '/v1/usage?groupBy=subject', { token: s.analytics });
      expect([perSubject.status, perSubject.json.code]).toEqual([403, 'COUNTS_ONLY']);
      const perPurpose = await stack.api<{ items: { key: string; count: number }[] }>('GET', '/v1/usage?groupBy=purpose', {
        token: s.analytics,
      });
      expect(perPurpose.json.items).toEqual([{ key: 'general', count: 1, bytes: 100 }]);
      expect((await stack.api('GET', '/v1/usage?groupBy=subject', { token: s.admin })).status).toBe(200);
    });

    it('writes one audit row for a batch of 100 identical ids, and answers each of them', async () => {
      const s = await school();
      const [id] = await readyRows(stack, [{ tenant: s.tenant, subjectId: 'child-13', purpose: 'general' }]);
      const batch = await stack.api<DownloadUrlsAnswer>('POST', '/v1/media/download-urls', {
        token: s.admin,
        body: { ids: Array.from({ length: 100 }, () => id), variant: 'ml' },
      });
      expect(batch.json.items).toHaveLength(100);
      expect(batch.json.items.every((item) => item.id === id && 'url' in item)).toBe(true);
      const rows = await stack.deps.db
        .selectFrom('accessAudit')
        .select(['mediaId', 'action'])
        .where('tenant', '=', s.tenant)
        .where('action', '=', 'download')
        .execute();
      expect(rows).toEqual([{ mediaId: id, action: 'download' }]);
    });

    it('lets the app role write no audit row in the past, and prunes no younger than the retention the deploy recorded', async () => {
      const s = await school();
      const client = new pg.Client({ connectionString: appDatabaseUrl(database.url!) });
      await client.connect();
      try {
        const backDated = await client
          .query(
            `insert into access_audit (tenant, actor, actor_role, action, at) values ($1, 'x', 'admin', 'consent', now() - interval '3 years')`,
            [s.tenant],
          )
          .then(
            () => 'ok',
            (error: { code?: string }) => error.code,
          );
        expect(backDated).toBe(PERMISSION_DENIED);
        const plain = await client.query(
          `insert into access_audit (tenant, actor, actor_role, action) values ($1, 'x', 'admin', 'consent') returning at`,
          [s.tenant],
        );
        expect(Math.abs(new Date(plain.rows[0].at as string).getTime() - Date.now())).toBeLessThan(10 * 60_000);
      } finally {
        await client.end();
      }

      await recordAuditRetention(stack.deps.db, 100);
      try {
        // Written as the owner, who may: one row 50 days old, one 120 days old.
        for (const [actor, days] of [
          ['fifty-days', 50],
          ['hundred-twenty-days', 120],
        ] as const) {
          await stack.deps.db
            .insertInto('accessAudit')
            .values({
              tenant: s.tenant,
              actor,
              actorRole: 'admin',
              action: 'consent',
              mediaId: null,
              subjectId: null,
              variant: null,
              requestId: null,
              at: new Date(Date.now() - days * DAY),
            })
            .execute();
        }
        // A compromised caller asking for the 30-day floor still cannot go under the recorded 100.
        await app.audit.prune(30);
        const left = await stack.deps.db.selectFrom('accessAudit').select('actor').where('tenant', '=', s.tenant).execute();
        expect(left.map((row) => row.actor).sort()).toEqual(['fifty-days', 'x']);
      } finally {
        await recordAuditRetention(stack.deps.db, 730);
      }
    });
  });
});

import '../pipeline/support/quiet';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, ConsentRecord, DownloadAnswer, ErasureRecord, Principal, Problem } from '@media/core';
import { runErasure, runRetention, type Dependencies } from '@media/service';
import { sweep } from '@media/service/processing';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog } from '../pipeline/support/event-log';
import { withFaults } from '../pipeline/support/fault-injection';
import { isolatedDatabase } from '../pipeline/support/isolated-database';
import { appDatabaseUrl } from '../support/database';
import { appRoleDependencies, readyRows } from './support';

const DAY = 86_400_000;
/** The sweeper resumes jobs untouched for a minute; these tests interrupt a job and resume it at once. */
const RESUME_IDLE_JOBS_NOW = { rightsJobIdleSeconds: 0 };
const PERMISSION_DENIED = '42501';

/**
 * The rights of the people the photos are about, against the real PostgreSQL, the local S3 and
 * SQS. Retention and the sweeper look at every row, so this file has a database of its own; the
 * background work runs signed in as the DML-only app role, as in AWS.
 */
describe('the rights of the child', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let app: Dependencies;
  let aiEvents: QueueLog;
  /** Every download URL this file was given, per tenant: each must be in the audit log exactly once. */
  const minted = new Map<string, number>();

  beforeAll(async () => {
    database = await isolatedDatabase();
    if (!database.url) throw new Error('the rights tests need PostgreSQL (DATABASE_URL)');
    stack = await startTestStack({ databaseUrl: database.url });
    app = await appRoleDependencies(stack, database.url);
    aiEvents = new QueueLog(stack.sqs, stack.queues.consumers['ai-service']!.url);
  });
  afterAll(async () => {
    await app?.db.destroy();
    await stack?.close();
    await database?.drop();
  });

  const tokenOf = (role: Principal['role'], tenant: string, sub: string) => stack.token({ role, tenant, sub, classrooms: [] });
  const school = async () => {
    const tenant = uniqueTenant();
    return {
      tenant,
      admin: await tokenOf('admin', tenant, 'admin-1'),
      ai: await tokenOf('service', tenant, 'ai-service'),
      users: await tokenOf('service', tenant, 'user-service'),
      teacher: await tokenOf('teacher', tenant, 'teacher-1'),
    };
  };
  const download = async (tenant: string, token: string, id: string, variant: string) => {
    const answer = await stack.api<DownloadAnswer & Problem>('GET', `/v1/media/${id}/download?variant=${variant}`, { token });
    if (answer.status === 200) minted.set(tenant, (minted.get(tenant) ?? 0) + 1);
    return answer;
  };
  const putConsent = (token: string, subjectId: string, consent: { recognition: boolean; training: boolean }) =>
    stack.api<ConsentRecord & Problem>('PUT', `/v1/subjects/${subjectId}/consent`, { token, body: consent });
  const auditOf = async (token: string, query = '') => {
    const items: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; json: { items: AuditEntry[]; nextCursor: string | null } } = await stack.api(
        'GET',
        `/v1/audit?limit=7${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(page.status).toBe(200);
      items.push(...page.json.items);
      cursor = page.json.nextCursor;
    } while (cursor);
    return items;
  };

  describe('consent', () => {
    it('refuses ai-service the ml variant of a profile until recognition is consented, and again on the next request after a withdrawal', async () => {
      const s = await school();
      const [profile] = await readyRows(stack, [{ tenant: s.tenant, subjectId: 'child-1', purpose: 'profile' }]);

      const before = await download(s.tenant, s.ai, profile!, 'ml');
      expect(before.status).toBe(403);
      expect(before.json.code).toBe('CONSENT_REQUIRED');

      expect((await putConsent(s.admin, 'child-1', { recognition: true, training: false })).json).toMatchObject({
        subjectId: 'child-1',
        recognition: true,
        training: false,
        updatedBy: 'admin-1',
      });
      expect((await download(s.tenant, s.ai, profile!, 'ml')).status).toBe(200);

      await putConsent(s.users, 'child-1', { recognition: false, training: false });
      const after = await download(s.tenant, s.ai, profile!, 'ml');
      expect(after.status).toBe(403);
      expect(after.json.code).toBe('CONSENT_REQUIRED');
      // An administrator's own download does not need the child's consent to recognition.
      expect((await download(s.tenant, s.admin, profile!, 'ml')).status).toBe(200);
    });

    it('answers CONSENT_REQUIRED per item in a batch of URLs, and audits only the URLs it hands out', async () => {
      const s = await school();
      const [consented, refused] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-11', purpose: 'profile' },
        { tenant: s.tenant, subjectId: 'child-12', purpose: 'profile' },
      ]);
      await putConsent(s.admin, 'child-11', { recognition: true, training: false });
      const batch = await stack.api<{ items: { id: string; url?: string; error?: { code: string } }[] }>(
        'POST',
        '/v1/media/download-urls',
        {
          token: s.ai,
          body: { ids: [consented, refused], variant: 'ml' },
        },
      );
      expect(batch.status).toBe(200);
      expect(batch.json.items.map((item) => item.error?.code ?? 'url')).toEqual(['url', 'CONSENT_REQUIRED']);
      minted.set(s.tenant, (minted.get(s.tenant) ?? 0) + 1);
      expect((await auditOf(s.admin, '&action=download')).map((e) => e.mediaId)).toEqual([consented]);
    });

    it('tells ai-service of each consent change, with the consent now in force', async () => {
      const s = await school();
      await putConsent(s.admin, 'child-2', { recognition: true, training: true });
      await putConsent(s.admin, 'child-2', { recognition: false, training: true });
      await aiEvents.drain();
      const changes = aiEvents.messages
        .map((m) => m.event as unknown as { type: string; tenant: string; subjectId: string; recognition: boolean; training: boolean })
        .filter((e) => e.tenant === s.tenant);
      expect(changes.map(({ type, subjectId, recognition, training }) => ({ type, subjectId, recognition, training }))).toEqual([
        { type: 'subject.consent-changed', subjectId: 'child-2', recognition: true, training: true },
        { type: 'subject.consent-changed', subjectId: 'child-2', recognition: false, training: true },
      ]);
    });

    it("needs no one's consent for ai-service's own training photos that name no person", async () => {
      const s = await school();
      const [own] = await readyRows(stack, [{ tenant: s.tenant, subjectId: 'ai-service', purpose: 'training' }]);
      expect((await download(s.tenant, s.ai, own!, 'ml')).status).toBe(200);
    });

    it('answers both false for a person never asked, to the person themself, and refuses a teacher', async () => {
      const s = await school();
      const child = await tokenOf('student', s.tenant, 'child-3');
      expect((await stack.api('GET', '/v1/subjects/child-3/consent', { token: child })).json).toEqual({
        subjectId: 'child-3',
        recognition: false,
        training: false,
        updatedAt: null,
        updatedBy: null,
      });
      expect((await stack.api('GET', '/v1/subjects/child-3/consent', { token: s.ai })).status).toBe(200);
      expect((await stack.api('GET', '/v1/subjects/child-3/consent', { token: s.teacher })).status).toBe(403);
      expect((await stack.api('GET', '/v1/subjects/child-4/consent', { token: child })).status).toBe(403);
      expect((await putConsent(s.teacher, 'child-3', { recognition: true, training: true })).status).toBe(403);
      expect((await putConsent(s.ai, 'child-3', { recognition: true, training: true })).status).toBe(403);
      // A partial change keeps the field left out; a change naming neither field, or another one, is refused.
      expect((await putConsent(s.admin, 'child-3', { recognition: true } as never)).json).toMatchObject({
        recognition: true,
        training: false,
      });
      expect((await putConsent(s.admin, 'child-3', { training: true } as never)).json).toMatchObject({ recognition: true, training: true });
      expect((await putConsent(s.admin, 'child-3', {} as never)).status).toBe(400);
      expect((await putConsent(s.admin, 'child-3', { recognition: true, faces: true } as never)).status).toBe(400);
    });

    it('withdrawing training consent deletes the training photos naming the person (tombstones), and training ml needs the consent', async () => {
      const s = await school();
      const [training, held, profile] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'training', withObject: true },
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'training', legalHold: true },
        { tenant: s.tenant, subjectId: 'child-5', purpose: 'profile' },
      ]);
      expect((await download(s.tenant, s.ai, training!, 'ml')).json.code).toBe('CONSENT_REQUIRED');
      // The ml variant is where recognition happens: training alone is not enough.
      await putConsent(s.admin, 'child-5', { recognition: false, training: true });
      expect((await download(s.tenant, s.ai, training!, 'ml')).json.code).toBe('CONSENT_REQUIRED');
      await putConsent(s.admin, 'child-5', { recognition: true, training: true });
      expect((await download(s.tenant, s.ai, training!, 'ml')).status).toBe(200);

      await putConsent(s.admin, 'child-5', { recognition: true, training: false });
      const rows = await Promise.all([training!, held!, profile!].map((id) => stack.deps.media.findById(id)));
      expect(rows.map((r) => [r?.status, r?.deletedBy])).toEqual([
        ['deleted', 'admin-1'],
        ['ready', null],
        ['ready', null],
      ]);
      expect(await stack.deps.storage.listKeys(`originals/${s.tenant}/${training}`)).toEqual([]);
      expect((await download(s.tenant, s.ai, training!, 'ml')).status).toBe(404);
    });
  });

  describe('the access audit', () => {
    it('lists downloads, deletes, holds and consent changes newest first, for administrators only, page by page', async () => {
      const s = await school();
      const [a, b] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-6', purpose: 'profile' },
        { tenant: s.tenant, subjectId: 'child-6', purpose: 'general' },
      ]);
      await download(s.tenant, s.admin, a!, 'original');
      expect((await download(s.tenant, s.users, a!, 'ml')).status).toBe(200);
      await stack.api('PUT', `/v1/media/${b}/legal-hold`, { token: s.admin, body: { hold: true } });
      await stack.api('PUT', `/v1/media/${b}/legal-hold`, { token: s.admin, body: { hold: false } });
      expect((await stack.api('DELETE', `/v1/media/${b}`, { token: s.admin })).status).toBe(204);
      await putConsent(s.admin, 'child-6', { recognition: true, training: false });

      const log = await auditOf(s.admin);
      expect(log.map((e) => [e.action, e.actor, e.mediaId, e.variant])).toEqual([
        ['consent', 'admin-1', null, null],
        ['delete', 'admin-1', b, null],
        ['legal-hold', 'admin-1', b, null],
        ['legal-hold', 'admin-1', b, null],
        ['download', 'user-service', a, 'ml'],
        ['download', 'admin-1', a, 'original'],
      ]);
      expect(log[4]).toMatchObject({ actorRole: 'service', subjectId: 'child-6' });
      expect((await auditOf(s.admin, `&mediaId=${a}`)).map((e) => e.variant)).toEqual(['ml', 'original']);
      expect((await auditOf(s.admin, '&action=legal-hold')).length).toBe(2);
      expect((await auditOf(s.admin, '&actor=user-service')).length).toBe(1);
      expect((await auditOf(s.admin, `&after=${new Date(Date.now() + 60_000).toISOString()}`)).length).toBe(0);
      expect((await stack.api('GET', '/v1/audit', { token: s.teacher })).status).toBe(403);
      expect((await stack.api('GET', '/v1/audit', { token: s.users })).status).toBe(403);
      expect((await stack.api('GET', '/v1/audit?action=peek', { token: s.admin })).status).toBe(400);
    });

    it('cannot be changed or deleted by the app role, only pruned past its retention through the granted function', async () => {
      const s = await school();
      const client = new pg.Client({ connectionString: appDatabaseUrl(database.url!) });
      await client.connect();
      const outcome = async (statement: string, values: unknown[] = []) => {
        try {
          await client.query(statement, values);
          return 'ok';
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        }
      };
      try {
        expect(
          await outcome(`insert into access_audit (tenant, actor, actor_role, action) values ($1, 'x', 'admin', 'consent')`, [s.tenant]),
        ).toBe('ok');
        expect(await outcome(`select * from access_audit where tenant = $1`, [s.tenant])).toBe('ok');
        expect(await outcome(`update access_audit set actor = 'someone-else' where tenant = $1`, [s.tenant])).toBe(PERMISSION_DENIED);
        expect(await outcome(`delete from access_audit where tenant = $1`, [s.tenant])).toBe(PERMISSION_DENIED);
        expect(await outcome(`truncate access_audit`)).toBe(PERMISSION_DENIED);
        // The pruning function refuses to be used as a delete of recent history.
        expect(await outcome(`select prune_access_audit(1, 1000)`)).not.toBe('ok');
      } finally {
        await client.end();
      }
      // A row from three years ago (written as the owner), and today's: pruning at 730 days takes the old one only.
      await stack.deps.db
        .insertInto('accessAudit')
        .values({
          tenant: s.tenant,
          actor: 'old',
          actorRole: 'admin',
          action: 'consent',
          mediaId: null,
          subjectId: null,
          variant: null,
          requestId: null,
          at: new Date(Date.now() - 3 * 365 * DAY),
        })
        .execute();
      expect(await app.audit.prune(730)).toBeGreaterThanOrEqual(1);
      const left = await stack.deps.db.selectFrom('accessAudit').select('actor').where('tenant', '=', s.tenant).execute();
      expect(left.map((r) => r.actor)).toEqual(['x']);
    });
  });

  describe('retention', () => {
    it('deletes what outlived its purpose as DELETE does, skipping legal holds, with the clock moved on', async () => {
      const s = await school();
      const now = new Date();
      const old = new Date(now.getTime() - 390 * DAY);
      const [attendance, held, general, recent] = await readyRows(stack, [
        { tenant: s.tenant, subjectId: 'child-7', purpose: 'attendance', createdAt: old, withObject: true },
        { tenant: s.tenant, subjectId: 'child-7', purpose: 'attendance', createdAt: old, legalHold: true },
        { tenant: s.tenant, subjectId: 'child-7', purpose: 'general', createdAt: old },
        { tenant: s.tenant, subjectId: 'child-7', purpose: 'attendance' },
      ]);
      const preview = await stack.api<{ items: { purpose: string; count: number; bytes: number; firstExpiry: string }[] }>(
        'GET',
        '/v1/retention/preview?withinDays=30',
        { token: s.admin },
      );
      expect(preview.json.items).toEqual([
        { purpose: 'attendance', count: 1, bytes: 100, firstExpiry: new Date(old.getTime() + 400 * DAY).toISOString() },
      ]);
      expect((await stack.api('GET', '/v1/retention/preview', { token: s.teacher })).status).toBe(403);

      // Today nothing is due; twenty days on, the 390-day-old attendance photo is.
      await runRetention(app, { now });
      expect((await stack.deps.media.findById(attendance!))?.status).toBe('ready');
      const report = await runRetention(app, { now: new Date(now.getTime() + 20 * DAY) });
      expect(report.expired).toBeGreaterThanOrEqual(1);
      const rows = await Promise.all([attendance!, held!, general!, recent!].map((id) => stack.deps.media.findById(id)));
      expect(rows.map((r) => [r?.status, r?.deletedBy])).toEqual([
        ['deleted', 'retention'],
        ['ready', null],
        ['ready', null],
        ['ready', null],
      ]);
      await sweep(app);
      expect(await stack.deps.storage.listKeys(`originals/${s.tenant}/${attendance}`)).toEqual([]);
      expect((await stack.deps.media.findById(attendance!))?.purgedAt).not.toBeNull();
      expect((await auditOf(s.admin, '&actor=retention')).map((e) => [e.action, e.mediaId])).toEqual([['delete', attendance]]);
    });
  });

  describe('erasure', () => {
    it('erases 200 items about a person (5 on hold) and ends done with the right counts, even when killed half-way', async () => {
      const s = await school();
      const purposes = ['profile', 'attendance', 'training', 'general'] as const;
      const ids = await readyRows(
        stack,
        Array.from({ length: 200 }, (_, n) => ({
          tenant: s.tenant,
          subjectId: 'child-8',
          purpose: purposes[n % 4]!,
          legalHold: n % 40 === 0,
          withObject: n % 20 === 1,
        })),
      );
      const [other] = await readyRows(stack, [{ tenant: s.tenant, subjectId: 'child-9', purpose: 'profile' }]);
      await putConsent(s.admin, 'child-8', { recognition: true, training: true });

      const started = await stack.api<{ erasureId: string; status: string }>('POST', '/v1/subjects/child-8/erasure', { token: s.admin });
      expect(started.status).toBe(202);
      expect(started.json.status).toBe('queued');
      // Asking again while it runs starts nothing new.
      expect((await stack.api<{ erasureId: string }>('POST', '/v1/subjects/child-8/erasure', { token: s.admin })).json.erasureId).toBe(
        started.json.erasureId,
      );
      expect((await stack.api('POST', '/v1/subjects/child-8/erasure', { token: s.teacher })).status).toBe(403);
      // The consent goes at once.
      expect((await stack.api<ConsentRecord>('GET', '/v1/subjects/child-8/consent', { token: s.admin })).json.recognition).toBe(false);

      // The worker dies right after its third batch committed, before it announced or purged anything of it.
      let batches = 0;
      const dying = withFaults(app, (call, phase) => {
        if (call.label === 'rights.eraseBatch' && phase === 'after' && ++batches === 3) return new Error('killed');
        return undefined;
      });
      await expect(runErasure(dying, started.json.erasureId, { batch: 30 })).rejects.toThrow('killed');
      const halfWay = await stack.api<ErasureRecord>('GET', `/v1/erasures/${started.json.erasureId}`, { token: s.admin });
      expect(halfWay.json).toMatchObject({ status: 'running', total: 90 });

      // A fresh job is its message's: the sweeper leaves it alone until it has sat idle a while.
      await sweep(app);
      expect((await stack.api<ErasureRecord>('GET', `/v1/erasures/${started.json.erasureId}`, { token: s.admin })).json.total).toBe(90);
      // The next sweeps, once it is idle long enough, pick it up where the database says it stopped.
      for (let run = 0; run < 5; run++) await sweep(app, RESUME_IDLE_JOBS_NOW);
      const done = await stack.api<ErasureRecord>('GET', `/v1/erasures/${started.json.erasureId}`, { token: s.users });
      expect(done.json).toEqual({
        erasureId: started.json.erasureId,
        subjectId: 'child-8',
        status: 'done',
        total: 200,
        deleted: 195,
        untagged: 0,
        heldBack: 5,
      });

      const rows = await stack.deps.db
        .selectFrom('media')
        .select(['id', 'status', 'legalHold', 'purgedAt'])
        .where('id', 'in', ids)
        .execute();
      expect(rows.filter((r) => r.status === 'deleted').length).toBe(195);
      expect(rows.filter((r) => r.status !== 'deleted').every((r) => r.legalHold)).toBe(true);
      expect(rows.filter((r) => r.status === 'deleted').every((r) => r.purgedAt !== null)).toBe(true);
      expect((await stack.deps.media.findById(other!))?.status).toBe('ready');
      for (const id of ids.filter((_, n) => n % 20 === 1))
        expect(await stack.deps.storage.listKeys(`originals/${s.tenant}/${id}`)).toEqual([]);

      // Each delete audited once, whatever the crash; the erasure itself once.
      const audit = await auditOf(s.admin, '&subjectId=child-8');
      expect(audit.filter((e) => e.action === 'delete').length).toBe(195);
      expect(new Set(audit.filter((e) => e.action === 'delete').map((e) => e.mediaId)).size).toBe(195);
      expect(audit.filter((e) => e.action === 'erasure').map((e) => e.actor)).toEqual(['admin-1']);

      await aiEvents.drain();
      const erased = aiEvents.messages
        .map((m) => m.event as unknown as { type: string; tenant: string; subjectId: string })
        .filter((e) => e.tenant === s.tenant && e.type === 'subject.erased');
      expect(erased.map((e) => e.subjectId)).toEqual(['child-8']);
      // Done is done: a second run changes nothing, a new request finds only the held items.
      const again = await stack.api<{ erasureId: string }>('POST', '/v1/subjects/child-8/erasure', { token: s.admin });
      expect(again.json.erasureId).not.toBe(started.json.erasureId);
      await sweep(app, RESUME_IDLE_JOBS_NOW);
      expect((await stack.api<ErasureRecord>('GET', `/v1/erasures/${again.json.erasureId}`, { token: s.admin })).json).toMatchObject({
        status: 'done',
        total: 5,
        deleted: 0,
        heldBack: 5,
      });
    });

    it('sends subject.erased once, even when the queue was down as the erasure finished', async () => {
      const s = await school();
      await readyRows(
        stack,
        [1, 2, 3].map(() => ({ tenant: s.tenant, subjectId: 'child-13', purpose: 'general' as const })),
      );
      const started = await stack.api<{ erasureId: string }>('POST', '/v1/subjects/child-13/erasure', { token: s.admin });
      // Events about a person carry no media id: those are the ones that fail.
      const queueDown = withFaults(app, (call, phase) =>
        phase === 'before' && call.label === 'events.publish' && !call.mediaId ? new Error('queue down') : undefined,
      );
      await expect(runErasure(queueDown, started.json.erasureId)).rejects.toThrow('queue down');
      expect((await stack.api<ErasureRecord>('GET', `/v1/erasures/${started.json.erasureId}`, { token: s.admin })).json).toMatchObject({
        status: 'done',
        deleted: 3,
      });

      await sweep(app, RESUME_IDLE_JOBS_NOW);
      await sweep(app, RESUME_IDLE_JOBS_NOW);
      await aiEvents.drain();
      const erased = aiEvents.messages
        .map((m) => m.event as unknown as { type: string; tenant: string })
        .filter((e) => e.tenant === s.tenant && e.type === 'subject.erased');
      expect(erased.length).toBe(1);
    });

    it('keeps another school from reading an erasure', async () => {
      const s = await school();
      const t = await school();
      const started = await stack.api<{ erasureId: string }>('POST', '/v1/subjects/child-10/erasure', { token: s.admin });
      expect((await stack.api<Problem>('GET', `/v1/erasures/${started.json.erasureId}`, { token: t.admin })).status).toBe(404);
      expect((await stack.api<Problem>('GET', '/v1/erasures/not-an-id', { token: s.admin })).status).toBe(404);
    });
  });

  it('has every download URL this file was given in the audit log exactly once', async () => {
    expect(minted.size).toBeGreaterThan(0);
    for (const [tenant, count] of minted) {
      const rows = await stack.deps.db
        .selectFrom('accessAudit')
        .select('id')
        .where('tenant', '=', tenant)
        .where('action', '=', 'download')
        .execute();
      expect(rows.length, tenant).toBe(count);
    }
  });
});

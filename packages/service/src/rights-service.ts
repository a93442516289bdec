import {
  authorizeRight,
  newMediaId,
  PURPOSES,
  requirePerson,
  rightsScopeOf,
  type AuditEntry,
  type AuditQuery,
  type ConsentBody,
  type ConsentRecord,
  type ErasureRecord,
  type ExportRecord,
  type JobStatus,
  type Principal,
  type RetentionPreviewAnswer,
  type SubjectEvent,
  notFound,
} from '@media/core';
import type { AccessAuditRow, Consent, RightsJobRow } from '@media/db';
import type { Dependencies } from './dependencies';
import { subjectAuditOf } from './audit-entries';
import { grantFaceCrops, revokeFaceCrops } from './face-access';
import { deleteItem, finishDeletion } from './item-lifecycle';

type Deps = Pick<Dependencies, 'config' | 'media' | 'rights' | 'audit' | 'storage' | 'events'> &
  Partial<Pick<Dependencies, 'faces' | 'edge' | 'faceQueue'>>;

const DAY_MS = 86_400_000;

/** How long the URL of an export's ZIP file lives. */
export const EXPORT_URL_TTL_SECONDS = 15 * 60;

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

const consentRecordOf = (subjectId: string, consent: Consent): ConsentRecord => ({
  subjectId,
  recognition: consent.recognition,
  training: consent.training,
  updatedAt: iso(consent.updatedAt),
  updatedBy: consent.updatedBy,
});

export async function getConsent(deps: Pick<Deps, 'rights'>, principal: Principal, subjectId: string): Promise<ConsentRecord> {
  requirePerson(subjectId);
  authorizeRight(principal, 'consent:read', subjectId);
  return consentRecordOf(subjectId, await deps.rights.consentOf(principal.tenant, subjectId));
}

/**
 * Records a consent (with its audit row, in one transaction) and tells the consumers. A withdrawal
 * applies to the next URL asked for, since downloads read consent every time; withdrawing training
 * deletes the person's training photos as DELETE would (tombstones), except those under legal hold.
 */
export async function setConsent(
  deps: Deps,
  principal: Principal,
  subjectId: string,
  body: ConsentBody,
  requestId?: string,
): Promise<ConsentRecord> {
  requirePerson(subjectId);
  authorizeRight(principal, 'consent:write', subjectId);
  const { before, after } = await deps.rights.setConsent(
    principal.tenant,
    subjectId,
    body,
    principal.sub,
    subjectAuditOf(principal, requestId, 'consent', subjectId),
  );
  const updatedAt = new Date(after.updatedAt!).toISOString();
  const event: SubjectEvent = {
    eventId: `subject.consent-changed:${principal.tenant}:${subjectId}:${updatedAt}`,
    type: 'subject.consent-changed',
    occurredAt: updatedAt,
    tenant: principal.tenant,
    subjectId,
    recognition: after.recognition,
    training: after.training,
  };
  await deps.events.publish(event);
  if (before.training && !after.training) await deleteTrainingPhotosOf(deps, principal, subjectId, requestId);
  // Not only on a change: a request retried after a failure part-way finishes the removal.
  if ((!after.recognition || !after.training) && deps.faces)
    await revokeFaceCrops({ ...deps, faces: deps.faces }, principal.tenant, subjectId);
  // Consent given after detection: the crops it now allows are made (docs/privacy.md § Faces).
  if (after.recognition && deps.faces) await grantFaceCrops({ ...deps, faces: deps.faces }, principal.tenant, subjectId);
  return consentRecordOf(subjectId, after);
}

/** The training photos of a person, each deleted as DELETE deletes (audited, announced, purged). */
async function deleteTrainingPhotosOf(deps: Deps, principal: Principal, subjectId: string, requestId?: string): Promise<number> {
  let count = 0;
  let after: string | null = null;
  for (;;) {
    const page = await deps.rights.itemsAbout(principal.tenant, subjectId, { purposes: ['training'], after, limit: 100 });
    if (page.length === 0) return count;
    after = page[page.length - 1]!.id;
    for (const row of page.filter((r) => !r.legalHold)) {
      if (await deleteItem(deps, principal, row, requestId)) count += 1;
    }
  }
}

const auditEntryFrom = (row: AccessAuditRow): AuditEntry => ({
  at: new Date(row.at).toISOString(),
  actor: row.actor,
  actorRole: row.actorRole,
  action: row.action,
  mediaId: row.mediaId,
  subjectId: row.subjectId,
  variant: row.variant,
  requestId: row.requestId,
});

export async function listAudit(
  deps: Pick<Deps, 'audit'>,
  principal: Principal,
  query: AuditQuery,
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  authorizeRight(principal, 'audit');
  const { limit, cursor, ...filter } = query;
  const page = await deps.audit.list(principal.tenant, filter, limit, cursor);
  return { items: page.items.map(auditEntryFrom), nextCursor: page.nextCursor };
}

/** What the retention runs will delete between `now` and `withinDays` from now, per purpose with a retention. */
export async function retentionPreview(
  deps: Pick<Deps, 'config' | 'rights'>,
  principal: Principal,
  withinDays: number,
  now: Date = new Date(),
): Promise<RetentionPreviewAnswer> {
  authorizeRight(principal, 'retention');
  const items: RetentionPreviewAnswer['items'] = [];
  for (const purpose of PURPOSES) {
    const days = deps.config.retention.mediaDays[purpose];
    if (days === undefined) continue;
    const cutoff = new Date(now.getTime() + (withinDays - days) * DAY_MS);
    const summary = await deps.rights.expiringSummary(principal.tenant, purpose, cutoff);
    items.push({
      purpose,
      count: summary.count,
      bytes: summary.bytes,
      firstExpiry: summary.firstCreatedAt ? new Date(summary.firstCreatedAt.getTime() + days * DAY_MS).toISOString() : null,
    });
  }
  return { items };
}

type RightsJobPorts = Pick<Dependencies, 'rights' | 'rightsJobs'>;

/** A right's job as asked by `principal`: its scope is what the principal may read throughout the school. */
const jobOf = (principal: Principal, subjectId: string) => ({
  id: newMediaId(),
  tenant: principal.tenant,
  subjectId,
  requestedBy: principal.sub,
  requesterRole: principal.role,
  purposes: rightsScopeOf(principal),
});

/** What a caller sees of a job's state: one no worker has touched yet (never updated) is queued. */
const jobStatusOf = (job: RightsJobRow): JobStatus =>
  job.status === 'running' && new Date(job.updatedAt).getTime() === new Date(job.createdAt).getTime() ? 'queued' : job.status;

const erasureRecordOf = (job: RightsJobRow): ErasureRecord => ({
  erasureId: job.id,
  subjectId: job.subjectId,
  status: jobStatusOf(job),
  total: job.total,
  deleted: job.deleted,
  untagged: job.untagged,
  heldBack: job.heldBack,
});

/**
 * Records a right's job for a person (or finds the one already running for them with that scope),
 * audited, and hands a new one to its worker at once. The request has succeeded whatever the hand-
 * over does: a message that could not be sent leaves the job to the sweeper, which resumes idle jobs.
 */
async function startRightsJob(
  deps: RightsJobPorts,
  principal: Principal,
  kind: 'erasure' | 'export',
  subjectId: string,
  requestId: string | undefined,
): Promise<{ id: string; status: JobStatus }> {
  requirePerson(subjectId);
  authorizeRight(principal, kind, subjectId);
  const started = await deps.rights.startJob(
    { ...jobOf(principal, subjectId), kind },
    subjectAuditOf(principal, requestId, kind, subjectId),
  );
  if (started.started) await deps.rightsJobs.announce(started.job.id).catch(() => undefined);
  return { id: started.job.id, status: jobStatusOf(started.job) };
}

/**
 * Starts erasing a person from the items naming them, of the purposes the caller may read (or
 * gives back the erasure already running for them with that scope).
 */
export const requestErasure = (deps: RightsJobPorts, principal: Principal, subjectId: string, requestId?: string) =>
  startRightsJob(deps, principal, 'erasure', subjectId, requestId).then(({ id, status }) => ({ erasureId: id, status }));

export async function getErasure(deps: Pick<Deps, 'rights'>, principal: Principal, erasureId: string): Promise<ErasureRecord> {
  authorizeRight(principal, 'erasure');
  const job = await deps.rights.findJob(principal.tenant, 'erasure', erasureId);
  if (!job) throw notFound('erasure');
  return erasureRecordOf(job);
}

/** Starts gathering the items naming a person that the caller may read into one ZIP file (or gives back the export already running). */
export const requestExport = (deps: RightsJobPorts, principal: Principal, subjectId: string, requestId?: string) =>
  startRightsJob(deps, principal, 'export', subjectId, requestId).then(({ id, status }) => ({ exportId: id, status }));

/** An export's state; once done, a short-lived URL of its ZIP file (minted like any download: audited). */
export async function getExport(
  deps: Pick<Deps, 'rights' | 'storage' | 'audit'>,
  principal: Principal,
  exportId: string,
  requestId?: string,
): Promise<ExportRecord> {
  authorizeRight(principal, 'export');
  const job = await deps.rights.findJob(principal.tenant, 'export', exportId);
  if (!job) throw notFound('export');
  const record: ExportRecord = { exportId: job.id, status: jobStatusOf(job), items: job.items, bytes: Number(job.bytes) };
  if (job.status !== 'done' || !job.objectKey) return record;
  const signed = await deps.storage.presignDownload({
    key: job.objectKey,
    contentType: 'application/zip',
    expiresInSeconds: EXPORT_URL_TTL_SECONDS,
    contentDisposition: `attachment; filename="export-${job.subjectId.replace(/[^A-Za-z0-9._-]/g, '_')}.zip"`,
  });
  await deps.audit.append({
    ...subjectAuditOf(principal, requestId, 'download', job.subjectId),
    requestId: requestId ?? `export:${job.id}`,
  });
  return { ...record, url: signed.url, expiresAt: signed.expiresAt };
}

/**
 * One erasure advanced to its end, a batch (one transaction) at a time; the tombstoned items'
 * events and purges follow each batch (what fails here, the sweeper finishes). Stops early when
 * `maxBatches` is reached; a crash loses at most the batch in flight, which the next run repeats.
 * Once done, `subject.erased` goes out and is recorded as sent (again by the next run if that fails).
 */
export async function runErasure(
  deps: Deps,
  jobId: string,
  options: { batch?: number; maxBatches?: number } = {},
): Promise<RightsJobRow | undefined> {
  const batch = options.batch ?? 100;
  let last: RightsJobRow | undefined;
  for (let n = 0; n < (options.maxBatches ?? Number.POSITIVE_INFINITY); n++) {
    const result = await deps.rights.eraseBatch(jobId, batch);
    if (!result) break;
    last = result.job;
    // The tombstoned rows themselves (a lookup of visible rows would never find a deleted one, and
    // then nothing was purged here): their keys are all the purge needs.
    for (const row of result.deleted) await finishDeletion(deps, row);
    if (result.job.status === 'done') break;
  }
  // Finished (now, or earlier by a worker that died before telling anyone): the event, at least once.
  const job = last ?? (await deps.rights.findJobById(jobId));
  if (job?.kind === 'erasure' && job.status === 'done' && !job.announcedAt) {
    const event: SubjectEvent = {
      eventId: `subject.erased:${job.id}`,
      type: 'subject.erased',
      occurredAt: new Date(job.completedAt ?? Date.now()).toISOString(),
      tenant: job.tenant,
      subjectId: job.subjectId,
    };
    await deps.events.publish(event);
    await deps.rights.markErasureAnnounced(job.id);
  }
  return job;
}

/**
 * One retention run: for each purpose with a retention, items uploaded more than its days before
 * `now` are deleted as DELETE deletes (`deletedBy: retention`), skipping legal holds, in batches of
 * `batch`, at most `maxBatches` per purpose; then one batch of audit rows past their own retention.
 * The sweeper announces and purges what was tombstoned.
 */
export async function runRetention(
  deps: Pick<Deps, 'config' | 'rights' | 'audit'>,
  options: { now?: Date; batch?: number; maxBatches?: number } = {},
): Promise<{ expired: number; auditPruned: number }> {
  const now = options.now ?? new Date();
  const batch = options.batch ?? 500;
  let expired = 0;
  for (const purpose of PURPOSES) {
    const days = deps.config.retention.mediaDays[purpose];
    if (days === undefined) continue;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    for (let n = 0; n < (options.maxBatches ?? 20); n++) {
      const rows = await deps.rights.expireBatch(purpose, cutoff, batch);
      expired += rows.length;
      if (rows.length < batch) break;
    }
  }
  const auditPruned = await deps.audit.prune(deps.config.retention.auditDays);
  return { expired, auditPruned };
}

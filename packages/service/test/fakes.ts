import { randomUUID } from 'node:crypto';
import { loadConfig, MediaError, type Config, type MediaEvent, type StoredVariant } from '@media/core';
import type { MediaRow, NewAuditEntry, NewPendingMedia, Page, RecordRow, UploadCheckState, UploadLimits } from '@media/db';
import type { EventPublisher } from '../src/event-publisher';
import type { MediaObjects, MediaPorts, MediaRows, UploadPorts, UploadRepository, UploadStorage } from '../src/ports';

/**
 * In-memory stand-ins for the service's ports, small enough to read at a glance. Each keeps the
 * rules of the real thing that the service relies on (a deleted row is invisible, a legal hold
 * blocks the tombstone, only a lease's owner gives it back); anything else is left out. A fake can
 * be told to fail, to test what the service does when its surroundings do.
 */

const now = () => new Date();

/** The rows of one table, keyed by id, with the repository's conditional updates. */
export class FakeMediaRows implements UploadRepository, MediaRows {
  readonly rows = new Map<string, MediaRow>();
  /** Tenants whose uploads were reserved, one entry a request, in order. */
  readonly reservations: string[] = [];

  /** A row as the repository would hold it; `fields` override the defaults of a pending upload. */
  add(fields: Partial<MediaRow> & Pick<MediaRow, 'tenant'>): MediaRow {
    const created = now();
    const row: MediaRow = {
      id: randomUUID(),
      purpose: 'general',
      status: 'pending',
      subjectId: null,
      subjectIds: [],
      classroomId: null,
      uploadedBy: 'someone',
      contentType: 'image/jpeg',
      declaredSize: 1000,
      size: null,
      width: null,
      height: null,
      sha256: null,
      phash: null,
      filename: null,
      placeholder: null,
      variants: [],
      originalKey: null,
      legalHold: false,
      rejectionCode: null,
      rejectionDetail: null,
      uploadExpiresAt: new Date(created.getTime() + 600_000),
      leaseExpiresAt: null,
      leaseOwner: null,
      eventPublishedAt: null,
      attempts: 0,
      createdAt: created,
      updatedAt: created,
      processedAt: null,
      deletedAt: null,
      deletedBy: null,
      purgedAt: null,
      purgeAfter: null,
      capturedAt: null,
      multipartUploadId: null,
      partSize: null,
      partCount: null,
      kind: 'image',
      durationSeconds: null,
      phashBand0: null,
      phashBand1: null,
      phashBand2: null,
      phashBand3: null,
      ...fields,
    };
    // As the database keeps them: one subject given is the whole list, and the list's first is `subjectId`.
    if (!fields.subjectIds && row.subjectId) row.subjectIds = [row.subjectId];
    row.subjectId = row.subjectIds[0] ?? null;
    this.rows.set(row.id, row);
    return row;
  }

  /** As `media_reserve_uploads`: insert, compare the figures with the limits, undo and return them when over. */
  async reserveUploads(items: NewPendingMedia[], limits: UploadLimits): Promise<UploadCheckState | null> {
    const first = items[0];
    if (!first) return null;
    this.reservations.push(first.tenant);
    const ours = new Set(items.map((item) => item.id));
    for (const item of items) {
      this.add({
        ...item,
        kind: item.kind ?? 'image',
        multipartUploadId: item.multipartUploadId ?? null,
        partSize: item.partSize ?? null,
        partCount: item.partCount ?? null,
        status: 'pending',
      });
    }
    const holding = [...this.rows.values()].filter(
      (r) => r.tenant === first.tenant && ['pending', 'processing', 'ready'].includes(r.status),
    );
    const held = (rows: MediaRow[]) => rows.reduce((sum, r) => sum + (r.size ?? r.declaredSize), 0);
    const pending = holding.filter((r) => r.uploadedBy === first.uploadedBy && r.status === 'pending' && r.uploadExpiresAt > now());
    const state: UploadCheckState = {
      pendingExpiries: pending
        .filter((r) => !ours.has(r.id))
        .map((r) => r.uploadExpiresAt)
        .sort((a, b) => a.getTime() - b.getTime()),
      held: { school: held(holding), person: held(holding.filter((r) => r.uploadedBy === first.uploadedBy)) },
    };
    const over =
      state.held.school > limits.schoolQuotaBytes ||
      (limits.personQuotaBytes !== null && state.held.person > limits.personQuotaBytes) ||
      pending.length > limits.maxPending;
    if (!over) return null;
    for (const id of ours) this.rows.delete(id);
    return state;
  }

  async findInTenant(tenant: string, id: string): Promise<MediaRow | undefined> {
    const row = this.rows.get(id);
    return row && row.tenant === tenant && row.status !== 'deleted' ? { ...row } : undefined;
  }

  async findManyInTenant(tenant: string, ids: readonly string[]): Promise<MediaRow[]> {
    return (await Promise.all(ids.map((id) => this.findInTenant(tenant, id)))).filter((row): row is MediaRow => row !== undefined);
  }

  /** Not needed by the unit tests (visibility is tested against PostgreSQL): says so if called. */
  async listVisible(): Promise<Page<RecordRow>> {
    throw new Error('FakeMediaRows.listVisible: list visibility is tested against the real repository');
  }

  async markDeleted(tenant: string, id: string, deletedBy: string, announceLeaseSeconds?: number): Promise<MediaRow | undefined> {
    const row = this.rows.get(id);
    if (!row || row.tenant !== tenant || row.status === 'deleted' || row.legalHold) return undefined;
    Object.assign(row, {
      status: 'deleted',
      deletedAt: now(),
      deletedBy,
      leaseExpiresAt: announceLeaseSeconds ? new Date(Date.now() + announceLeaseSeconds * 1000) : null,
      leaseOwner: randomUUID(),
      eventPublishedAt: null,
      updatedAt: now(),
    });
    return { ...row };
  }

  /** Recorded only for a deleted row whose last worker's lease is over, as the repository does. */
  async markPurged(id: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (row?.status !== 'deleted' || (row.purgeAfter && row.purgeAfter > now())) return false;
    row.purgedAt = now();
    return true;
  }

  async setLegalHold(tenant: string, id: string, hold: boolean): Promise<MediaRow | undefined> {
    const row = this.rows.get(id);
    if (!row || row.tenant !== tenant || row.status === 'deleted') return undefined;
    row.legalHold = hold;
    return { ...row };
  }

  async usage(tenant: string, groupBy: 'purpose' | 'subject'): Promise<{ key: string; count: number; bytes: number }[]> {
    const groups = new Map<string, { key: string; count: number; bytes: number }>();
    for (const r of this.rows.values()) {
      if (r.tenant !== tenant || !['pending', 'processing', 'ready'].includes(r.status)) continue;
      const key = groupBy === 'purpose' ? r.purpose : (r.subjectId ?? '');
      const group = groups.get(key) ?? { key, count: 0, bytes: 0 };
      group.count += 1;
      group.bytes += r.size ?? r.declaredSize;
      groups.set(key, group);
    }
    return [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  async releaseLease(id: string, owner: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.leaseOwner !== owner) return false;
    Object.assign(row, { status: row.status === 'processing' ? 'pending' : row.status, leaseExpiresAt: null, leaseOwner: null });
    return true;
  }

  /** As the repository: a finished row owing its event, with no live lease on it. */
  async claimAnnouncement(id: string, leaseSeconds: number): Promise<MediaRow | undefined> {
    const row = this.rows.get(id);
    const announced = ['ready', 'rejected', 'deleted'].includes(row?.status ?? '');
    if (!row || !announced || row.eventPublishedAt || (row.leaseExpiresAt && row.leaseExpiresAt > now())) return undefined;
    Object.assign(row, { leaseExpiresAt: new Date(Date.now() + leaseSeconds * 1000), leaseOwner: randomUUID() });
    return { ...row };
  }

  async markAnnounced(id: string, status: MediaRow['status']): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== status || row.eventPublishedAt) return false;
    Object.assign(row, { eventPublishedAt: now(), leaseExpiresAt: null, leaseOwner: null });
    return true;
  }
}

/** A bucket as a set of keys; presigned URLs name their key so tests can see what was signed. */
export class FakeObjects implements UploadStorage, MediaObjects {
  readonly keys = new Set<string>();
  readonly signed: { key: string; contentType: string; expiresInSeconds: number; contentDisposition?: string }[] = [];
  /** When set, every removal fails with it (S3 down half-way through a delete). */
  failDeletes: Error | undefined;

  async presignUpload(input: { key: string; contentType: string; maxBytes: number; expiresInSeconds: number }) {
    this.signed.push(input);
    const expiresAt = new Date(Date.now() + input.expiresInSeconds * 1000).toISOString();
    return { url: 'https://storage.test/media', fields: { key: input.key, 'Content-Type': input.contentType }, expiresAt };
  }

  /** Multipart uploads started and aborted, by key. */
  readonly multipartStarted: string[] = [];
  readonly multipartAborted: string[] = [];

  async createMultipartUpload(key: string): Promise<string> {
    this.multipartStarted.push(key);
    return `upload-${this.multipartStarted.length}`;
  }

  async abortMultipartUpload(key: string): Promise<void> {
    this.multipartAborted.push(key);
  }

  async presignDownload(input: { key: string; expiresInSeconds: number; contentType: string; contentDisposition: string }) {
    this.signed.push(input);
    return {
      url: `https://storage.test/media/${input.key}`,
      expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000).toISOString(),
    };
  }

  async listKeys(prefix: string): Promise<string[]> {
    return [...this.keys].filter((key) => key.startsWith(prefix)).sort();
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (this.failDeletes) throw this.failDeletes;
    for (const key of keys) this.keys.delete(key);
  }
}

/** The outbound queue as a list; `fail` makes the next publications throw. */
export class FakeEvents implements EventPublisher {
  readonly sent: MediaEvent[] = [];
  fail: Error | undefined;

  async publish(event: MediaEvent): Promise<void> {
    if (this.fail) throw this.fail;
    this.sent.push(event);
  }
}

/** The audit log as a list. */
export class FakeAuditTrail {
  readonly entries: NewAuditEntry[] = [];

  async append(entry: NewAuditEntry | NewAuditEntry[]): Promise<void> {
    this.entries.push(...(Array.isArray(entry) ? entry : [entry]));
  }
}

/** The service's config as the Lambdas load it, with the limits a test names. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    MEDIA_BUCKET: 'media-test',
    AWS_REGION: 'us-east-1',
    MEDIA_PGLITE_DIR: 'memory://',
    MEDIA_JWT_SECRET: 'unit-test-secret-0123456789',
    ...env,
  });
}

/** One set of fakes, wired as the upload and media services take them. */
export function fakePorts(env: Record<string, string> = {}) {
  const media = new FakeMediaRows();
  const storage = new FakeObjects();
  const events = new FakeEvents();
  const config = testConfig(env);
  const uploadPorts: UploadPorts = { config, media, storage };
  const audit = new FakeAuditTrail();
  const rights: MediaPorts['rights'] = {
    consentOf: async () => ({ recognition: false, training: false, updatedAt: null, updatedBy: null }),
    consentsOf: async () => new Map(),
  };
  const mediaPorts: MediaPorts = { config, media, storage, events, rights, audit };
  return { media, storage, events, config, audit, uploadPorts, mediaPorts };
}

/** A ready row with its original and derivatives in the bucket, as the processor leaves it. */
export function readyRow(ports: ReturnType<typeof fakePorts>, fields: Partial<MediaRow> & Pick<MediaRow, 'tenant'>): MediaRow {
  const id = fields.id ?? randomUUID();
  const original = `originals/${fields.tenant}/${id}`;
  const variants: StoredVariant[] = (['thumb', 'medium'] as const).map((name) => ({
    name,
    format: 'webp',
    width: 256,
    height: 256,
    size: 100,
    key: `derivatives/${fields.tenant}/${id}/${name}.webp`,
    contentType: 'image/webp',
  }));
  const row = ports.media.add({
    id,
    status: 'ready',
    size: 5000,
    width: 800,
    height: 600,
    sha256: 'a'.repeat(64),
    originalKey: original,
    variants,
    processedAt: now(),
    ...fields,
  });
  for (const key of [original, ...variants.map((v) => v.key)]) ports.storage.keys.add(key);
  return row;
}

/** The code a call is refused with (a MediaError), or 'none' when it succeeds. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MediaError) return error.code;
    throw error;
  }
  return 'none';
}

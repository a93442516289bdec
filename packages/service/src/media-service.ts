import {
  authorize,
  authorizeUsage,
  DOWNLOAD_ITEM_ERRORS,
  MediaError,
  MediaIdParam,
  purposePolicy,
  readScopeOf,
  type DownloadUrlItem,
  type ErrorCode,
  type ListQuery,
  type MediaRecord,
  type Principal,
  isPersonId,
  type AuditAction,
  type DownloadVariant,
  isFaceVariant,
  type VariantName,
  notFound,
} from '@media/core';
import type { MediaRow, NewAuditEntry } from '@media/db';
import { contentDisposition, derivativePrefix, incomingKey, originalKey, type EdgeInvalidation } from '@media/storage';
import { announce, giveBack } from './announcements';
import { authorizeFaceDownload, faceVariantOf, facesFor, policyVariantOf } from './face-access';
import { toMediaRecord } from './media-record';
import type { MediaObjects, MediaPorts, MediaRows } from './ports';

type Deps = MediaPorts;

const DUPLICATE_DISTANCE = 6;

async function visibleRow(deps: Deps, principal: Principal, id: string): Promise<MediaRow> {
  const row = await deps.media.findInTenant(principal.tenant, id);
  if (!row) throw notFound('media');
  return row;
}

export async function getMedia(deps: Deps, principal: Principal, id: string): Promise<MediaRecord> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'read' }, row);
  const faces = await facesFor(deps, principal, row);
  return faces ? { ...toMediaRecord(row), faces } : toMediaRecord(row);
}

export async function listMedia(
  deps: Deps,
  principal: Principal,
  query: ListQuery,
): Promise<{ items: MediaRecord[]; nextCursor: string | null }> {
  let nearPhash: { phash: string; maxDistance: number; excludeId: string } | undefined;
  if (query.duplicateOf) {
    const reference = await visibleRow(deps, principal, query.duplicateOf);
    authorize(principal, { kind: 'read' }, reference);
    if (!reference.phash) return { items: [], nextCursor: null };
    nearPhash = { phash: reference.phash, maxDistance: DUPLICATE_DISTANCE, excludeId: reference.id };
  }
  const page = await deps.media.listVisible(readScopeOf(principal), { ...query, nearPhash }, query.limit, query.cursor);
  return { items: page.items.map(toMediaRecord), nextCursor: page.nextCursor };
}

/** Who acts, for the audit log: the principal and the request it came with. */
export const auditEntryOf = (
  principal: Principal,
  requestId: string | undefined,
  action: AuditAction,
  row: Pick<MediaRow, 'id' | 'subjectId'>,
  variant: DownloadVariant | null = null,
): NewAuditEntry => ({
  tenant: principal.tenant,
  actor: principal.sub,
  actorRole: principal.role === 'service' ? 'service' : principal.role,
  action,
  mediaId: row.id,
  subjectId: row.subjectId,
  variant,
  requestId: requestId ?? null,
});

/**
 * The `ml` variant is where recognition happens, so it needs the consent of every person the item
 * names, read on every URL asked for (a withdrawal applies to the next one): recognition, whatever
 * the purpose (a class photo naming one child who refused is refused whole), and for a training
 * photo training as well. An item naming nobody needs no one's consent.
 */
async function requireConsent(deps: Pick<Deps, 'rights'>, principal: Principal, row: MediaRow, variant: VariantName): Promise<void> {
  if (principal.role !== 'service' || principal.sub !== 'ai-service' || variant !== 'ml') return;
  const people = row.subjectIds.filter(isPersonId);
  if (people.length === 0) return;
  const consents = await deps.rights.consentsOf(row.tenant, people);
  if (people.some((id) => !consents.get(id)?.recognition)) {
    throw new MediaError('CONSENT_REQUIRED', 'A person this media names has not consented to face recognition.');
  }
  if (row.purpose === 'training' && people.some((id) => !consents.get(id)?.training)) {
    throw new MediaError('CONSENT_REQUIRED', 'A person this media names has not consented to the use of their photos for training.');
  }
}

export async function downloadUrl(
  deps: Deps,
  principal: Principal,
  id: string,
  variant: DownloadVariant,
  requestId?: string,
): Promise<{ url: string; expiresAt: string }> {
  const row = await visibleRow(deps, principal, id);
  return issueDownloadUrl(deps, principal, row, variant, requestId);
}

/** The refusals an item of a batch of URLs answers with, as a single download would have. */
const ITEM_REFUSALS: ReadonlySet<ErrorCode> = new Set(DOWNLOAD_ITEM_ERRORS);

/**
 * URLs for up to 100 items at once (a gallery, the AI service's batch): the rows in one lookup by
 * primary key, then one policy decision per item. An id that is malformed, unknown or another
 * school's is that item's NOT_FOUND, never the batch's failure; the answer keeps the ids' order.
 */
export async function downloadUrls(
  deps: Deps,
  principal: Principal,
  ids: readonly string[],
  variant: DownloadVariant,
  requestId?: string,
): Promise<{ items: DownloadUrlItem[] }> {
  const wellFormed = [...new Set(ids.filter((id) => MediaIdParam.safeParse(id).success))];
  const rows = new Map((await deps.media.findManyInTenant(principal.tenant, wellFormed)).map((row) => [row.id, row]));
  const answerOf = async (id: string): Promise<DownloadUrlItem> => {
    try {
      const row = rows.get(id);
      if (!row) throw notFound('media');
      return { id, ...(await issueDownloadUrl(deps, principal, row, variant, requestId)) };
    } catch (error) {
      if (error instanceof MediaError && ITEM_REFUSALS.has(error.code)) {
        return { id, error: { code: error.code as (typeof DOWNLOAD_ITEM_ERRORS)[number] } };
      }
      throw error;
    }
  };
  // An id repeated in one request is decided, signed and audited once; every repeat gets that answer.
  const answers = new Map([...new Set(ids)].map((id) => [id, answerOf(id)]));
  return { items: await Promise.all(ids.map((id) => answers.get(id)!)) };
}

/**
 * The one place a download URL is issued, single or in a batch: the policy decision for this
 * principal, this item and this variant, then the URL. Derivatives go through the CDN when one is
 * configured (cached at the edge, signed for this one path); the original always stays an S3
 * presigned URL (never cached anywhere but the caller's browser). Whatever must happen once per
 * issued URL (an audit row) belongs here.
 */
async function issueDownloadUrl(
  deps: Deps,
  principal: Principal,
  row: MediaRow,
  variant: DownloadVariant,
  requestId: string | undefined,
): Promise<{ url: string; expiresAt: string }> {
  authorize(principal, { kind: 'download', variant: policyVariantOf(variant) }, row);
  if (isFaceVariant(variant)) await authorizeFaceDownload(deps, principal, row, variant);
  else await requireConsent(deps, principal, row, variant);
  if (row.status !== 'ready') {
    throw new MediaError('NOT_READY', `This media is ${row.status}; a download is possible once it is ready.`);
  }
  // The key comes from the stored record only, never from the request.
  const stored = isFaceVariant(variant) ? await faceVariantOf(deps, row, variant) : row.variants.find((v) => v.name === variant);
  const key = stored?.key ?? (variant === 'original' ? row.originalKey : null);
  if (!key) throw new MediaError('NOT_FOUND', `This media has no ${variant} variant.`);
  if (!isKeyOf(row.tenant, row.id, key)) {
    // A record pointing outside its own place is corrupt: refuse rather than sign someone else's object.
    throw new MediaError('INTERNAL', `media ${row.id} names a key outside its tenant's layout`);
  }
  const expiresInSeconds = purposePolicy(row.purpose).downloadTtlSeconds;
  const signed = await signDownload(deps, row, variant, key, stored?.contentType, stored?.format, expiresInSeconds);
  // Signing is local arithmetic; the URL leaves only once its audit row is written.
  await deps.audit.append(auditEntryOf(principal, requestId, 'download', row, variant));
  return signed;
}

async function signDownload(
  deps: Deps,
  row: MediaRow,
  variant: DownloadVariant,
  key: string,
  storedType: string | undefined,
  storedFormat: string | undefined,
  expiresInSeconds: number,
): Promise<{ url: string; expiresAt: string }> {
  if (deps.cdn && variant !== 'original' && key.startsWith(derivativePrefix(row.tenant, row.id))) {
    return deps.cdn.signDownload({ key, expiresInSeconds });
  }
  const contentType = safeContentType(storedType ?? row.contentType);
  const extension = storedFormat ?? contentType.split('/')[1]!;
  const base = (row.filename ?? '').replace(/\.[^.]*$/, '');
  const fileVariant = variant.replace('/', '-');
  return deps.storage.presignDownload({
    key,
    contentType,
    expiresInSeconds,
    contentDisposition: contentDisposition(base ? `${base}-${fileVariant}.${extension}` : null, `${row.id}-${fileVariant}.${extension}`),
  });
}

const isKeyOf = (tenant: string, id: string, key: string) =>
  key === originalKey(tenant, id) || (key.startsWith(derivativePrefix(tenant, id)) && !key.includes('..'));

/** The stored type goes into a response header: only a plain `type/subtype` gets there. */
const safeContentType = (type: string) => (/^[a-z]+\/[a-z0-9.+-]+$/.test(type) ? type : 'application/octet-stream');

/** Every object an item may have, whatever state it reached. */
export async function objectKeysOf(deps: { storage: Pick<MediaObjects, 'listKeys'> }, row: MediaRow): Promise<string[]> {
  const keys = new Set<string>([incomingKey(row.tenant, row.id), originalKey(row.tenant, row.id)]);
  for (const v of row.variants ?? []) keys.add(v.key);
  for (const key of await deps.storage.listKeys(derivativePrefix(row.tenant, row.id))) keys.add(key);
  return [...keys];
}

/**
 * Tombstones the row first (so no URL can be minted from here on), announces it, then removes the
 * objects. Once the tombstone is written the delete has happened: an event or a purge that fails
 * here is finished by the sweeper (the row still owes its event, or has no `purgedAt`), and so is
 * whatever a worker busy with the item writes after this purge (see `purgeObjects`).
 */
export async function deleteMedia(deps: Deps, principal: Principal, id: string, requestId?: string): Promise<{ purged: boolean }> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'delete' }, row);
  const deleted = await deps.media.markDeleted(
    principal.tenant,
    id,
    principal.sub,
    deps.config.processing.leaseSeconds,
    auditEntryOf(principal, requestId, 'delete', row),
  );
  if (!deleted) {
    const now = await deps.media.findInTenant(principal.tenant, id);
    if (now?.legalHold) throw new MediaError('LEGAL_HOLD', 'This media is under legal hold and cannot be deleted.');
    throw notFound('media');
  }
  try {
    await announce(deps, deleted);
  } catch {
    await giveBack(deps, deleted);
  }
  try {
    return { purged: await purgeObjects(deps, deleted) };
  } catch {
    return { purged: false };
  }
}

/** What the bucket still holds of an item, found by listing its places (not by trusting the row). */
async function remainingKeysOf(deps: { storage: Pick<MediaObjects, 'listKeys'> }, row: Pick<MediaRow, 'tenant' | 'id'>): Promise<string[]> {
  const found = await Promise.all(
    [incomingKey(row.tenant, row.id), originalKey(row.tenant, row.id), derivativePrefix(row.tenant, row.id)].map((prefix) =>
      deps.storage.listKeys(prefix),
    ),
  );
  return found.flat();
}

/**
 * Removes every object of a deleted item, checks that none remain, and records the purge once no
 * worker that held the item can still write (see `markPurged`). True when the purge is recorded;
 * false when it must run again (an object reappeared, or a worker's lease is still running): the
 * sweeper runs it again. Throws when S3 fails. Never touches an item under legal hold.
 */
export async function purgeObjects(
  deps: { storage: Pick<MediaObjects, 'listKeys' | 'deleteMany'>; media: Pick<MediaRows, 'markPurged'>; edge?: EdgeInvalidation },
  row: MediaRow,
): Promise<boolean> {
  if (row.legalHold) return false;
  const keys = await objectKeysOf(deps, row);
  await deps.storage.deleteMany(keys);
  // Gone from the bucket, the derivatives may still sit in the CDN's edge caches until their
  // max-age: invalidated here, before the purge is recorded, so a failed invalidation is retried by
  // the sweeper with the rest of the purge.
  const prefix = derivativePrefix(row.tenant, row.id);
  await deps.edge?.invalidate(
    keys.filter((key) => key.startsWith(prefix)),
    row.id,
  );
  if ((await remainingKeysOf(deps, row)).length > 0) return false;
  return deps.media.markPurged(row.id);
}

export async function setLegalHold(deps: Deps, principal: Principal, id: string, hold: boolean, requestId?: string): Promise<MediaRecord> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'legal-hold' }, row);
  const updated = await deps.media.setLegalHold(principal.tenant, id, hold, auditEntryOf(principal, requestId, 'legal-hold', row));
  if (!updated) throw notFound('media');
  return toMediaRecord(updated);
}

export async function usage(deps: Deps, principal: Principal, groupBy: 'purpose' | 'subject') {
  authorizeUsage(principal, groupBy);
  return { items: await deps.media.usage(principal.tenant, groupBy) };
}

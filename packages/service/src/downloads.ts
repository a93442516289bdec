import {
  authorize,
  DOWNLOAD_ITEM_ERRORS,
  isPersonId,
  MediaError,
  MediaIdParam,
  notFound,
  purposePolicy,
  type DownloadUrlItem,
  type DownloadVariant,
  type ErrorCode,
  isFaceVariant,
  type Principal,
  type VariantName,
} from '@media/core';
import type { MediaRow } from '@media/db';
import { contentDisposition, derivativePrefix, originalKey } from '@media/storage';
import { auditEntryOf } from './audit-entries';
import { authorizeFaceDownload, faceVariantOf, policyVariantOf } from './face-access';
import type { MediaPorts } from './ports';
import { visibleRow } from './visible-row';

/**
 * Download URLs, one or a batch: each one a policy decision, a consent check where recognition is
 * concerned, and an audit row. No object passes through here: the caller gets a signed URL.
 */

type Deps = MediaPorts;

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

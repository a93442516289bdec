import {
  type DownloadVariant,
  type FaceVariantName,
  isFaceVariant,
  MediaError,
  type Principal,
  type StoredVariant,
  type VariantName,
} from '@media/core';
import type { FaceRepository, MediaFacesRow, MediaRow, RightsRepository, StoredFace } from '@media/db';
import type { EdgeInvalidation, MediaStorage } from '@media/storage';
import { recognitionAllowed } from './face-consent';
import { type FaceQueue, handToFaceStage } from './face-queue';

/** A face variant's name: the blurred image, or the Nth face's aligned crop. */
export const isFaceCrop = (variant: string): boolean => /^faces\/\d{1,3}$/.test(variant);
export const BLURRED_VARIANT = 'blurred';

/**
 * The processing variant whose read policy a face variant follows: `blurred` is readable wherever
 * a display variant (`medium`) is; a crop only where `ml` is (then the consent rule below).
 */
export function policyVariantOf(variant: DownloadVariant): VariantName {
  if (!isFaceVariant(variant)) return variant;
  return variant === BLURRED_VARIANT ? 'medium' : 'ml';
}

/** The download path's check of a face variant: a crop needs recognition allowed, read now. */
export async function authorizeFaceDownload(
  deps: { rights: Pick<RightsRepository, 'consentsOf'>; faces?: Pick<FaceRepository, 'recognitionForAttendance'> },
  principal: Principal,
  row: Pick<MediaRow, 'tenant' | 'purpose' | 'subjectIds'>,
  variant: FaceVariantName,
): Promise<void> {
  if (!isFaceCrop(variant)) return;
  const attendance = row.purpose === 'attendance' && deps.faces ? await deps.faces.recognitionForAttendance(row.tenant) : false;
  authorizeFaceVariant(principal, variant, recognitionAllowed(row, await deps.rights.consentsOf(row.tenant, row.subjectIds), attendance));
}

/** A face variant as the face stage recorded it, or undefined (not detected yet, or no such face). */
export async function faceVariantOf(
  deps: { faces?: Pick<FaceRepository, 'find'> },
  row: Pick<MediaRow, 'id'>,
  variant: FaceVariantName,
): Promise<Omit<StoredVariant, 'name'> | undefined> {
  const faces = await deps.faces?.find(row.id);
  return faces?.variants.find((v) => v.name === variant);
}

/** `faces` for this principal's view of the record, read only for those who may ever see it. */
export async function facesFor(
  deps: { rights: Pick<RightsRepository, 'consentsOf'>; faces?: Pick<FaceRepository, 'find' | 'recognitionForAttendance'> },
  principal: Principal,
  row: Pick<MediaRow, 'id' | 'tenant' | 'purpose' | 'subjectIds'>,
): Promise<StoredFace[] | undefined> {
  const mayEverSee = principal.role === 'admin' || (principal.role === 'service' && principal.sub === 'ai-service');
  if (!mayEverSee || !deps.faces) return undefined;
  const faces = await deps.faces.find(row.id);
  if (!faces?.faces) return undefined;
  let allowed = false;
  if (principal.role === 'service') {
    const attendance = row.purpose === 'attendance' && (await deps.faces.recognitionForAttendance(row.tenant));
    allowed = recognitionAllowed(row, await deps.rights.consentsOf(row.tenant, row.subjectIds), attendance);
  }
  return facesShownTo(principal, row.tenant, faces, allowed);
}

/**
 * Who sees `faces` in a record (docs/privacy.md § Faces): the school's admins always; the AI
 * service while recognition is allowed for the item; nobody else.
 */
export function facesShownTo(
  principal: Principal,
  tenant: string,
  faces: MediaFacesRow | undefined,
  allowed: boolean,
): StoredFace[] | undefined {
  if (!faces?.faces || principal.tenant !== tenant) return undefined;
  if (principal.role === 'admin') return faces.faces;
  if (principal.role === 'service' && principal.sub === 'ai-service' && allowed) return faces.faces;
  return undefined;
}

/**
 * May this principal have a URL to this face variant? A crop: the AI service only, and only while
 * recognition is allowed (read on every URL, as for `ml`). `blurred`: whoever may have a display
 * variant (`medium`), decided by the caller's policy before this.
 */
export function authorizeFaceVariant(principal: Principal, variant: string, allowed: boolean): void {
  if (!isFaceCrop(variant)) return;
  if (principal.role !== 'service' || principal.sub !== 'ai-service') {
    throw new MediaError('FORBIDDEN', `You may not download the ${variant} variant of this media.`);
  }
  if (!allowed) throw new MediaError('CONSENT_REQUIRED', 'A person this media names has not consented to face recognition.');
}

export interface CropRevocationDeps {
  faces: Pick<FaceRepository, 'withCropsNaming' | 'attendanceWithCrops' | 'dropVariants' | 'recognitionForAttendance'>;
  rights: Pick<RightsRepository, 'consentsOf'>;
  storage: Pick<MediaStorage, 'deleteMany'>;
  edge?: EdgeInvalidation;
}

/**
 * After a person's consent changed: every item naming them whose crops the rule no longer allows
 * loses them, as an erasure removes derivatives: the objects, then their CDN copies, then the
 * record. Idempotent, so a failure part-way is finished by the next call (a retried request, or the
 * same consent written again): until the record is cleared, no crop URL is minted either, since
 * every URL reads consent again.
 */
export async function revokeFaceCrops(deps: CropRevocationDeps, tenant: string, subjectId: string): Promise<number> {
  return revokeDisallowed(deps, tenant, await deps.faces.withCropsNaming(tenant, subjectId));
}

export interface CropGrantDeps {
  faces: Pick<FaceRepository, 'withoutCropsNaming' | 'reopen' | 'recognitionForAttendance'>;
  rights: Pick<RightsRepository, 'consentsOf'>;
  faceQueue?: FaceQueue;
}

/**
 * After a person consented to recognition: every item naming them whose faces were found without
 * crops, and whose crops the rule now allows (everyone it names consented), goes back to the face
 * stage, which writes them. Without a face queue nothing runs the stage, and nothing is reopened.
 */
export async function grantFaceCrops(deps: CropGrantDeps, tenant: string, subjectId: string): Promise<number> {
  if (!deps.faceQueue) return 0;
  const items = await deps.faces.withoutCropsNaming(tenant, subjectId);
  if (items.length === 0) return 0;
  const attendanceAllowed = await deps.faces.recognitionForAttendance(tenant);
  let granted = 0;
  for (const item of items) {
    const consents = await deps.rights.consentsOf(tenant, item.subjectIds);
    if (!recognitionAllowed(item, consents, item.purpose === 'attendance' && attendanceAllowed)) continue;
    if (!(await deps.faces.reopen(item.mediaId))) continue;
    // A lost send costs only time: the sweeper resends pending face work left idle.
    await handToFaceStage(deps.faceQueue, { tenant, mediaId: item.mediaId });
    granted++;
  }
  return granted;
}

/** After a school turned recognition for attendance off: its attendance photos' crops, where consent does not allow them. */
export async function revokeAttendanceCrops(deps: CropRevocationDeps, tenant: string): Promise<number> {
  return revokeDisallowed(deps, tenant, await deps.faces.attendanceWithCrops(tenant));
}

async function revokeDisallowed(
  deps: CropRevocationDeps,
  tenant: string,
  items: (MediaFacesRow & Pick<MediaRow, 'purpose' | 'subjectIds'>)[],
): Promise<number> {
  if (items.length === 0) return 0;
  const attendanceAllowed = await deps.faces.recognitionForAttendance(tenant);
  let revoked = 0;
  for (const item of items) {
    const consents = await deps.rights.consentsOf(tenant, item.subjectIds);
    if (recognitionAllowed(item, consents, item.purpose === 'attendance' && attendanceAllowed)) continue;
    const crops = item.variants.filter((v) => isFaceCrop(v.name));
    const keys = crops.map((v) => v.key);
    await deps.storage.deleteMany(keys);
    await deps.edge?.invalidate(keys, `faces-${item.mediaId}-${Date.now()}`);
    await deps.faces.dropVariants(
      item.mediaId,
      crops.map((v) => v.name),
    );
    revoked++;
  }
  return revoked;
}

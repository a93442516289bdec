import type { DerivativeFormat, DerivativeName } from './media';

export const PURPOSES = ['profile', 'attendance', 'training', 'general'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface DerivativeSpec {
  name: DerivativeName;
  /** Longest side for `inside` fits; both sides for the square thumb. */
  size: number;
  fit: 'inside' | 'cover';
  format: DerivativeFormat;
}

export interface PurposePolicy {
  allowedTypes: readonly string[];
  maxBytes: number;
  /** Video types accepted besides the photos (checked with ffprobe; their limits are the config's). */
  videoTypes: readonly string[];
  derivatives: readonly DerivativeSpec[];
  /** Lifetime of a presigned GET for this purpose. */
  downloadTtlSeconds: number;
  /** Requires a classroom id on upload. */
  needsClassroom: boolean;
}

const MB = 1024 * 1024;
/** `image/heic` and `image/heif` (what phones send) wherever `image/jpeg` is: decoded from the bytes, never trusted by name. */
const PHONE_PHOTO_TYPES = ['image/heic', 'image/heif'] as const;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif', ...PHONE_PHOTO_TYPES] as const;
/** Containers a phone or camera writes; the codecs inside are checked from the bytes (ffprobe). */
export const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/webm'] as const;
export const isVideoType = (contentType: string) => (VIDEO_TYPES as readonly string[]).includes(contentType);

const thumb: DerivativeSpec = { name: 'thumb', size: 256, fit: 'cover', format: 'webp' };
const small: DerivativeSpec = { name: 'small', size: 480, fit: 'inside', format: 'webp' };
const medium: DerivativeSpec = { name: 'medium', size: 1280, fit: 'inside', format: 'webp' };
const large: DerivativeSpec = { name: 'large', size: 2048, fit: 'inside', format: 'webp' };
const ml: DerivativeSpec = { name: 'ml', size: 640, fit: 'inside', format: 'jpeg' };

/** One declared table: what each purpose accepts, what it produces and how long its URLs live. */
export const PURPOSE_POLICIES: Record<Purpose, PurposePolicy> = {
  profile: {
    allowedTypes: PHOTO_TYPES,
    maxBytes: 15 * MB,
    videoTypes: [],
    derivatives: [thumb, small, medium, ml],
    downloadTtlSeconds: 15 * 60,
    needsClassroom: false,
  },
  attendance: {
    allowedTypes: ['image/jpeg', 'image/png', 'image/webp', ...PHONE_PHOTO_TYPES],
    maxBytes: 25 * MB,
    // Short clips of a class activity; the length limit is MEDIA_VIDEO_MAX_SECONDS.
    videoTypes: VIDEO_TYPES,
    derivatives: [thumb, small, medium, large, ml],
    downloadTtlSeconds: 5 * 60,
    needsClassroom: true,
  },
  training: {
    allowedTypes: [...PHOTO_TYPES, 'image/tiff'],
    maxBytes: 40 * MB,
    videoTypes: [],
    derivatives: [thumb, ml],
    downloadTtlSeconds: 15 * 60,
    needsClassroom: false,
  },
  general: {
    allowedTypes: PHOTO_TYPES,
    maxBytes: 20 * MB,
    videoTypes: VIDEO_TYPES,
    derivatives: [thumb, small, medium, large],
    downloadTtlSeconds: 15 * 60,
    needsClassroom: false,
  },
};

export const UPLOAD_URL_TTL_SECONDS = 10 * 60;

export function purposePolicy(purpose: Purpose): PurposePolicy {
  return PURPOSE_POLICIES[purpose];
}

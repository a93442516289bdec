import type { UploadRequest } from './contract';
import { MediaError } from './errors';
import type { Principal } from './principal';
import { subjectIdsOf } from './subjects';
import { isVideoType, purposePolicy, type Purpose } from './purposes';

export interface UploadPlan {
  purpose: Purpose;
  contentType: string;
  size: number;
  kind: 'image' | 'video';
  /** Sent in parts (S3 multipart): asked for, or required by the size. */
  multipart: boolean;
  /** The people the item names (none: nobody, never the uploader); the first is `subjectId`. */
  subjectIds: string[];
  classroomId: string | null;
  filename: string | null;
}

const TYPE_ALIASES: Record<string, string> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg' };

/** File names are shown back to people: keep them printable and short, never trust them further. */
function cleanFilename(filename: string | undefined): string | null {
  if (!filename) return null;
  const cleaned = filename
    // A lone surrogate (JSON `\ud800`) is not text: it would break encoding it later.
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control and direction characters are what this removes
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '')
    .split(/[\\/]/)
    .pop()!
    .trim();
  return Array.from(cleaned).slice(0, 255).join('') || null;
}

/** The size limits that come from the configuration rather than the purpose table. */
export interface UploadSizeLimits {
  /** At or above this size an upload must be multipart (`MEDIA_MULTIPART_THRESHOLD_BYTES`). */
  multipartThresholdBytes: number;
  /** The largest video (`MEDIA_VIDEO_MAX_BYTES`). */
  videoMaxBytes: number;
}

/** S3's smallest part (all but the last): below it a multipart upload is one part, so plain POST it is. */
export const MIN_MULTIPART_BYTES = 5 * 1024 * 1024;
/** A single presigned POST carries at most 5 GB (S3); above that only multipart works. */
const MAX_SINGLE_POST_BYTES = 5 * 1000 ** 3;

export const DEFAULT_UPLOAD_SIZE_LIMITS: UploadSizeLimits = {
  multipartThresholdBytes: 100 * 1024 * 1024,
  videoMaxBytes: 2 * 1024 ** 3,
};

/**
 * Checks a declared upload against its purpose: type (415), size (413), required fields (400),
 * and whether it goes in parts (required above the threshold, allowed above 5 MiB).
 * The real bytes are checked again after upload; this only refuses what is wrong on its face.
 */
export function planUpload(
  _principal: Principal,
  request: UploadRequest,
  limits: UploadSizeLimits = DEFAULT_UPLOAD_SIZE_LIMITS,
): UploadPlan {
  const policy = purposePolicy(request.purpose);
  const contentType = TYPE_ALIASES[request.contentType.toLowerCase()] ?? request.contentType.toLowerCase();
  const accepted = [...policy.allowedTypes, ...policy.videoTypes];
  if (!accepted.includes(contentType)) {
    throw new MediaError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${contentType} is not accepted for ${request.purpose} media; accepted: ${accepted.join(', ')}.`,
    );
  }
  const kind = isVideoType(contentType) ? 'video' : 'image';
  const maxBytes = kind === 'video' ? limits.videoMaxBytes : policy.maxBytes;
  if (request.size > maxBytes) {
    throw new MediaError('PAYLOAD_TOO_LARGE', `${request.purpose} ${kind}s may be at most ${maxBytes} bytes; ${request.size} declared.`);
  }
  const multipart = request.multipart ?? false;
  if (!multipart && (request.size >= limits.multipartThresholdBytes || request.size > MAX_SINGLE_POST_BYTES)) {
    throw new MediaError('VALIDATION_FAILED', `An upload of ${request.size} bytes must be sent in parts: ask with multipart: true.`, {
      issues: [{ path: 'body.multipart', message: `required at ${limits.multipartThresholdBytes} bytes and above` }],
    });
  }
  if (multipart && request.size <= MIN_MULTIPART_BYTES) {
    throw new MediaError('VALIDATION_FAILED', `An upload of ${request.size} bytes is one part: ask without multipart.`, {
      issues: [{ path: 'body.multipart', message: `allowed above ${MIN_MULTIPART_BYTES} bytes` }],
    });
  }
  if (policy.needsClassroom && !request.classroomId) {
    throw new MediaError('VALIDATION_FAILED', `${request.purpose} media needs a classroomId.`, {
      issues: [{ path: 'body.classroomId', message: 'required for this purpose' }],
    });
  }
  return {
    purpose: request.purpose,
    contentType,
    size: request.size,
    kind,
    multipart,
    subjectIds: subjectIdsOf(request),
    classroomId: request.classroomId ?? null,
    filename: cleanFilename(request.filename),
  };
}

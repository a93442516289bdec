import type { UploadRequest } from './contract';
import { MediaError } from './errors';
import type { Principal } from './principal';
import { purposePolicy, type Purpose } from './purposes';

export interface UploadPlan {
  purpose: Purpose;
  contentType: string;
  size: number;
  subjectId: string;
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
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '')
    .split(/[\\/]/)
    .pop()!
    .trim();
  return Array.from(cleaned).slice(0, 255).join('') || null;
}

/**
 * Checks a declared upload against its purpose: type (415), size (413), required fields (400).
 * The real bytes are checked again after upload; this only refuses what is wrong on its face.
 */
export function planUpload(principal: Principal, request: UploadRequest): UploadPlan {
  const policy = purposePolicy(request.purpose);
  const contentType = TYPE_ALIASES[request.contentType.toLowerCase()] ?? request.contentType.toLowerCase();
  if (!policy.allowedTypes.includes(contentType)) {
    throw new MediaError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${contentType} is not accepted for ${request.purpose} media; accepted: ${policy.allowedTypes.join(', ')}.`,
    );
  }
  if (request.size > policy.maxBytes) {
    throw new MediaError('PAYLOAD_TOO_LARGE', `${request.purpose} media may be at most ${policy.maxBytes} bytes; ${request.size} declared.`);
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
    subjectId: request.subjectId ?? principal.sub,
    classroomId: request.classroomId ?? null,
    filename: cleanFilename(request.filename),
  };
}

/**
 * Errors are values with stable codes. This table is the only place that knows how a code
 * maps to an HTTP status and title; everything else throws `MediaError` and moves on.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  INVALID_SUBJECT: { status: 400, title: 'Not a person who can be the subject of media' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  CONSENT_REQUIRED: { status: 403, title: 'The subject has not consented to this use' },
  COUNTS_ONLY: { status: 403, title: 'Only counts are available to services' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_READY: { status: 409, title: 'Media is not ready' },
  CONFLICT: { status: 409, title: 'Conflicting state' },
  UPLOAD_MISMATCH: { status: 409, title: 'The uploaded parts do not match the declared upload' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Declared size is over the limit' },
  QUOTA_EXCEEDED: { status: 413, title: 'Storage quota exceeded' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Media type not accepted' },
  LEGAL_HOLD: { status: 423, title: 'Media is under legal hold' },
  TOO_MANY_PENDING_UPLOADS: { status: 429, title: 'Too many unfinished uploads' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Why an upload's bytes were refused: the code of a `rejected` record (and of its
 * `media.rejected` event). Permanent: the same bytes get the same answer. The imaging checks
 * decide them; the contract types them, so the OpenAPI document and the client list them.
 */
export const REJECTION_CODES = [
  'EMPTY_FILE',
  'SIZE_MISMATCH',
  'FILE_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TYPE_MISMATCH',
  'UNSUPPORTED_CODEC',
  'IMAGE_TOO_LARGE',
  'CORRUPT_IMAGE',
  'POLYGLOT',
  'UNSUPPORTED_CONTAINER',
  'CORRUPT_VIDEO',
  'VIDEO_TOO_LONG',
  'VIDEO_TOO_COMPLEX',
  'IMAGE_SEQUENCE',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface FieldIssue {
  path: string;
  message: string;
}

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: { issues?: FieldIssue[]; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export const isMediaError = (error: unknown): error is MediaError => error instanceof MediaError;

/** What an unknown, invisible or malformed id names: one sentence per kind of thing, written once. */
const NOT_FOUND_DETAIL = {
  media: 'No such media.',
  upload: 'No such multipart upload of yours.',
  erasure: 'No such erasure.',
  export: 'No such export.',
} as const;

/** 404 for a thing the caller may not know of: unknown, another tenant's and malformed look the same. */
export const notFound = (what: keyof typeof NOT_FOUND_DETAIL): MediaError => new MediaError('NOT_FOUND', NOT_FOUND_DETAIL[what]);

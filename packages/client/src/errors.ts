import type { ErrorCode, MediaRecord, RejectionCode } from './contract-types';

/**
 * Codes a caller can branch on: the API's problem+json codes, plus what can go wrong on the way
 * (no answer at all, an answer that is not ours, storage refusing the POST).
 */
export type MediaApiErrorCode = ErrorCode | 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE' | 'STORAGE_REFUSED';

export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  instance?: string;
  issues?: { path: string; message: string }[];
}

/** The API (or storage) said no. `code` is stable; `detail` is a sentence for people. */
export class MediaApiError extends Error {
  override readonly name = 'MediaApiError';
  readonly code: MediaApiErrorCode;
  /** HTTP status, or 0 when no answer arrived. */
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly issues: { path: string; message: string }[];
  /** From Retry-After, when the answer had one (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    code: MediaApiErrorCode;
    status: number;
    title?: string;
    detail: string;
    issues?: ProblemDetails['issues'];
    retryAfterSeconds?: number;
  }) {
    super(init.detail);
    this.code = init.code;
    this.status = init.status;
    this.title = init.title ?? init.code;
    this.detail = init.detail;
    this.issues = init.issues ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

export const isMediaApiError = (error: unknown, code?: MediaApiErrorCode): error is MediaApiError =>
  error instanceof MediaApiError && (code === undefined || error.code === code);

/** Why an upload will never be ready: a rejection code of the contract, or it expired or was deleted meanwhile. */
export type MediaRejectionCode = RejectionCode | 'EXPIRED' | 'DELETED' | 'REJECTED';

/**
 * The upload arrived but will never become ready: its bytes were rejected (`code` is the
 * rejection code, e.g. CORRUPT_IMAGE), or it expired or was deleted meanwhile.
 */
export class MediaRejectedError extends Error {
  override readonly name = 'MediaRejectedError';
  readonly code: MediaRejectionCode;
  readonly detail: string;

  constructor(readonly record: MediaRecord) {
    const code: MediaRejectionCode =
      record.rejection?.code ?? (record.status === 'deleted' ? 'DELETED' : record.status === 'expired' ? 'EXPIRED' : 'REJECTED');
    const detail = record.rejection?.detail || `The upload is ${record.status}.`;
    super(detail);
    this.code = code;
    this.detail = detail;
  }
}

/** Reads a failed answer as problem+json when it is one, and as an honest error when it is not. */
export async function errorFromResponse(response: Response): Promise<MediaApiError> {
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  const text = await response.text().catch(() => '');
  let problem: ProblemDetails | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as ProblemDetails).code === 'string') problem = parsed as ProblemDetails;
  } catch {
    // not JSON: a proxy, a gateway or something else answered
  }
  if (!problem) {
    return new MediaApiError({
      code: 'UNEXPECTED_RESPONSE',
      status: response.status,
      detail: `${`The service answered ${response.status} ${response.statusText || ''}`.trim()} without problem details.`,
      retryAfterSeconds,
    });
  }
  return new MediaApiError({
    code: problem.code as ErrorCode,
    status: response.status,
    title: problem.title,
    detail: problem.detail ?? problem.title ?? problem.code!,
    issues: problem.issues,
    retryAfterSeconds,
  });
}

import type { RejectionCode } from '@media/core';

/** The codes are the domain's (one error vocabulary, in @media/core); re-exported for imaging's callers. */
export { REJECTION_CODES, type RejectionCode } from '@media/core';

/** Why an upload's bytes were refused. Permanent: retrying the same bytes gives the same answer. */
export class UploadRejected extends Error {
  override readonly name = 'UploadRejected';
  constructor(
    readonly code: RejectionCode,
    detail: string,
  ) {
    super(detail);
  }
}

export const isUploadRejected = (error: unknown): error is UploadRejected => error instanceof UploadRejected;

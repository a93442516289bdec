/** Why an upload's bytes were refused. Permanent: retrying the same bytes gives the same answer. */
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
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

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

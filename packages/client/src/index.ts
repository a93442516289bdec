/**
 * @media/client: the typed client of the media API for browsers and Node 24. This entry imports
 * nothing from Node; file-system helpers live in `@media/client/node`.
 */
export { createMediaClient } from './media-client';
export type {
  AuditFilter,
  AuditPage,
  JobWaitOptions,
  ListFilter,
  ListPage,
  MediaClient,
  MediaClientOptions,
  TransferOptions,
  UploadBody,
  Uploaded,
  UploadOptions,
  UsageRow,
  WaitOptions,
} from './media-client';
export { isMediaApiError, MediaApiError, MediaRejectedError } from './errors';
export type { MediaApiErrorCode, MediaRejectionCode, ProblemDetails } from './errors';
export type { UploadProgress } from './storage-post';
export type { AuditEntry, ConsentBody, ConsentRecord, ErasureRecord, ExportRecord, RetentionPreviewAnswer } from './contract-types';
export type {
  DownloadUrlItem,
  ErrorCode,
  MediaRecord,
  MediaStatus,
  Purpose,
  RejectionCode,
  UploadRequest,
  UploadTicket,
  VariantName,
} from './contract-types';

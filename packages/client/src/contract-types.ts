/**
 * The HTTP contract's types, inferred from the zod schemas in @media/core. Type-only: no code of
 * core reaches a bundle of the client, and the published types need only zod's.
 */
import type {
  DownloadUrlItem,
  ListQuery,
  MediaRecord,
  MultipartTicket,
  PartUrlsAnswer,
  UploadedPartsAnswer,
  UploadRequest,
  UploadTicket,
} from '@media/core/contract';
import type { ErrorCode, RejectionCode } from '@media/core/errors';
import type {
  AuditEntry,
  AuditQuery,
  ConsentBody,
  ConsentRecord,
  ErasureRecord,
  ExportRecord,
  RetentionPreviewAnswer,
} from '@media/core/rights';

export type {
  DownloadUrlItem,
  ErrorCode,
  ListQuery,
  MediaRecord,
  MultipartTicket,
  PartUrlsAnswer,
  RejectionCode,
  UploadedPartsAnswer,
  UploadRequest,
  UploadTicket,
};
export type { AuditEntry, AuditQuery, ConsentBody, ConsentRecord, ErasureRecord, ExportRecord, RetentionPreviewAnswer };
export type Purpose = UploadRequest['purpose'];
export type MediaStatus = MediaRecord['status'];
export type VariantName = MediaRecord['variants'][number]['name'];

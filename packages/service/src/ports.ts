import type { Config } from '@media/core';
import type { AccessAuditLog, FaceRepository, MediaRepository, RightsRepository } from '@media/db';
import type { CdnUrls, EdgeInvalidation, MediaStorage } from '@media/storage';
import type { EventPublisher } from './event-publisher';

/**
 * What the use cases need of their surroundings, as narrow types (no behaviour): the rows
 * (MediaRepository), the objects (MediaStorage) and the outbound events. Production passes the
 * real classes; unit tests pass small in-memory fakes (packages/service/test/fakes.ts).
 */

/**
 * The rows the upload service writes: pending rows, reserved as one transaction that hands the
 * limit checks the figures as of this request and writes nothing if a check throws.
 */
export type UploadRepository = Pick<MediaRepository, 'reserveUploads'>;

/** The rows of multipart uploads: the caller's own, completed or aborted by one conditional update. */
export type MultipartRows = Pick<MediaRepository, 'findInTenant' | 'completeMultipart' | 'abortMultipart'>;

/** The rows the media operations (read, list, download, delete, hold, usage) touch. */
export type MediaRows = Pick<
  MediaRepository,
  | 'findInTenant'
  | 'findManyInTenant'
  | 'listVisible'
  | 'markDeleted'
  | 'markPurged'
  | 'setLegalHold'
  | 'usage'
  | 'releaseLease'
  | 'claimAnnouncement'
  | 'markAnnounced'
>;

/** Objects: presigned POSTs for uploads. */
export type UploadStorage = Pick<MediaStorage, 'presignUpload' | 'createMultipartUpload' | 'abortMultipartUpload'>;

/** Objects: the parts of multipart uploads. */
export type MultipartObjects = Pick<MediaStorage, 'presignUploadPart' | 'listParts' | 'completeMultipartUpload' | 'abortMultipartUpload'>;

/** Objects: presigned GETs, listing and removal. */
export type MediaObjects = Pick<MediaStorage, 'presignDownload' | 'listKeys' | 'deleteMany'>;

/** CloudFront signed URLs for derivatives, when a CDN is in front of them (infra context `media:cdn`). */
export type DerivativeUrls = Pick<CdnUrls, 'signDownload'>;

export interface UploadPorts {
  config: Config;
  media: UploadRepository;
  storage: UploadStorage;
}

export interface MultipartPorts {
  config: Config;
  media: MultipartRows;
  storage: MultipartObjects;
}

/** Consent, as the download path reads it. */
export type ConsentRows = Pick<RightsRepository, 'consentOf' | 'consentsOf'>;

/** The access audit log: appended to by every URL minted. */
export type AuditTrail = Pick<AccessAuditLog, 'append'>;

export interface MediaPorts {
  config: Config;
  media: MediaRows;
  storage: MediaObjects;
  events: EventPublisher;
  rights: ConsentRows;
  audit: AuditTrail;
  /** Absent: every variant is an S3 presigned URL (the default, and the local stack). */
  cdn?: DerivativeUrls;
  /** Absent: nothing caches objects at the edge, so a purge has nothing to invalidate. */
  edge?: EdgeInvalidation;
  /** The face stage's rows (`blurred`, `faces/N`); absent, those variants are not found. */
  faces?: Pick<FaceRepository, 'find' | 'recognitionForAttendance'>;
}

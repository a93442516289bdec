import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AuditAction, DownloadVariant, MediaStatus, Purpose, RejectionCode, StoredVariant } from '@media/core';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** One row per media item. Columns are snake_case in SQL, camelCase here (CamelCasePlugin). */
export interface MediaTable {
  id: string;
  tenant: string;
  purpose: Purpose;
  status: MediaStatus;
  /** The first of `subjectIds` (kept by the database), for readers of one subject. */
  subjectId: string | null;
  /** The people the item names, in the order given; empty when it names nobody (migration 0011). */
  subjectIds: ColumnType<string[], string[] | undefined, string[]>;
  classroomId: string | null;
  uploadedBy: string;
  contentType: string;
  /** What the caller declared; the real object may never exceed it. */
  declaredSize: number;
  /** Bytes of the validated original, once processed. */
  size: number | null;
  width: number | null;
  height: number | null;
  sha256: string | null;
  /**
   * When the photo was taken (EXIF DateTimeOriginal, ISO 8601, with the camera's UTC offset when
   * the file gave one); the only metadata kept from the upload.
   */
  capturedAt: string | null;
  /** 64-bit difference hash as 16 hex digits, for near-duplicate search. */
  phash: string | null;
  filename: string | null;
  placeholder: string | null;
  variants: Json<StoredVariant[]>;
  originalKey: string | null;
  legalHold: Generated<boolean>;
  rejectionCode: RejectionCode | null;
  rejectionDetail: string | null;
  uploadExpiresAt: Timestamp;
  leaseExpiresAt: NullableTimestamp;
  /** Who holds the lease: only that worker may complete or release it (a fencing token). */
  leaseOwner: string | null;
  /** When the event of the current state went out; empty while a ready/rejected/deleted row still owes it. */
  eventPublishedAt: NullableTimestamp;
  attempts: Generated<number>;
  createdAt: DefaultedTimestamp;
  updatedAt: DefaultedTimestamp;
  processedAt: NullableTimestamp;
  deletedAt: NullableTimestamp;
  deletedBy: string | null;
  /** Set once every object of a deleted item is gone from the bucket and no worker can write more. */
  purgedAt: NullableTimestamp;
  /** Deleted items: the end of the lease of a worker busy with the item when it was deleted. */
  purgeAfter: NullableTimestamp;
  /** S3's id of a multipart upload, while the row is pending; with the plan the uploader was given. */
  multipartUploadId: string | null;
  partSize: number | null;
  partCount: number | null;
  kind: ColumnType<'image' | 'video', 'image' | 'video' | undefined, 'image' | 'video'>;
  /** A video's length in seconds, from its bytes. */
  durationSeconds: number | null;
  /** The phash's four 16-bit bands (computed by the database), for the index-backed duplicate search. */
  phashBand0: ColumnType<number | null, never, never>;
  phashBand1: ColumnType<number | null, never, never>;
  phashBand2: ColumnType<number | null, never, never>;
  phashBand3: ColumnType<number | null, never, never>;
}

export type UsageScope = 'school' | 'purpose' | 'subject' | 'uploader';

/**
 * Space held per school, and within it per purpose, subject ('' for none) and uploader; kept by
 * triggers on `media` in the transaction of every change (`npm run db:recount` checks them).
 */
export interface MediaUsageTable {
  tenant: string;
  scope: UsageScope;
  /** '' for the school's own row. */
  key: string;
  /**
   * Which part of the figure: the school's, each purpose's and the no-subject figures are split
   * over `USAGE_SHARDS` rows (migration 0010), the others are one row (0). A figure is the sum.
   */
  shard: ColumnType<number, number | undefined, number>;
  /** Items holding space: pending, processing or ready. */
  count: ColumnType<number, number | undefined, number>;
  /** Stored sizes of processed items. */
  storedBytes: ColumnType<number, number | undefined, number>;
  /** Declared sizes of unfinished uploads. */
  reservedBytes: ColumnType<number, number | undefined, number>;
  /**
   * The school's rows only: moved by every change of any of the school's counters (migration 0013),
   * so the sum over its shards says whether a usage answer read earlier still holds.
   */
  version: ColumnType<number, number | undefined, number>;
}

/** Who an item names, one row per person (kept from `media.subject_ids` by the database): the index by person. */
export interface MediaSubjectsTable {
  mediaId: string;
  tenant: string;
  subjectId: string;
  position: number;
}

/** A person's consent (no row: none given). */
export interface SubjectConsentTable {
  tenant: string;
  subjectId: string;
  recognition: boolean;
  training: boolean;
  updatedAt: DefaultedTimestamp;
  updatedBy: string;
}

/** The access audit log: append-only for the app role (INSERT and SELECT only). */
export interface AccessAuditTable {
  id: ColumnType<string, never, never>;
  at: DefaultedTimestamp;
  tenant: string;
  actor: string;
  actorRole: string;
  action: AuditAction;
  mediaId: string | null;
  subjectId: string | null;
  variant: DownloadVariant | null;
  requestId: string | null;
}

/** An erasure or an export, advanced in batches; `cursor` is the last media id done. */
export interface RightsJobTable {
  id: string;
  tenant: string;
  subjectId: string;
  kind: 'erasure' | 'export';
  status: ColumnType<'running' | 'done', 'running' | 'done' | undefined, 'running' | 'done'>;
  requestedBy: string;
  requesterRole: string;
  cursor: string | null;
  /** The purposes the job covers: what its requester may read throughout the school. */
  purposes: ColumnType<Purpose[], Purpose[] | undefined, Purpose[]>;
  total: Generated<number>;
  /** Erasures: shared items kept with the person's tag removed (others are named on them). */
  untagged: Generated<number>;
  deleted: Generated<number>;
  heldBack: Generated<number>;
  items: Generated<number>;
  bytes: ColumnType<number, number | undefined, number>;
  objectKey: string | null;
  leaseExpiresAt: NullableTimestamp;
  createdAt: DefaultedTimestamp;
  updatedAt: DefaultedTimestamp;
  completedAt: NullableTimestamp;
  /** Erasures: when `subject.erased` went out; empty while a finished erasure still owes it. */
  announcedAt: NullableTimestamp;
}

export interface Database {
  media: MediaTable;
  mediaSubjects: MediaSubjectsTable;
  mediaUsage: MediaUsageTable;
  subjectConsent: SubjectConsentTable;
  accessAudit: AccessAuditTable;
  rightsJob: RightsJobTable;
  mediaFaces: MediaFacesTable;
  schoolSettings: SchoolSettingsTable;
}

/** The face stage's result for one item (migration 0012): detections only, never an embedding. */
export interface MediaFacesTable {
  mediaId: string;
  tenant: string;
  status: ColumnType<'pending' | 'done' | 'failed', 'pending' | 'done' | 'failed' | undefined, 'pending' | 'done' | 'failed'>;
  attempts: Generated<number>;
  leaseExpiresAt: NullableTimestamp;
  faces: ColumnType<StoredFace[] | null, string | null | undefined, string | null>;
  variants: ColumnType<FaceVariant[], string | undefined, string>;
  detectedAt: NullableTimestamp;
  createdAt: DefaultedTimestamp;
  updatedAt: DefaultedTimestamp;
}

/** A face as the stage records it: fractions of the upright image. */
export interface StoredFace {
  box: { x: number; y: number; width: number; height: number };
  landmarks: { x: number; y: number }[];
  score: number;
  quality: { templateError: number; poor: boolean };
}

/** A derivative of the face stage: `blurred`, or `faces/N` (the Nth face's aligned crop). */
export type FaceVariant = Omit<StoredVariant, 'name'> & { name: string };

/** Per-school decisions an admin makes (migration 0012). */
export interface SchoolSettingsTable {
  tenant: string;
  recognitionForAttendance: boolean;
  updatedAt: DefaultedTimestamp;
  updatedBy: string;
}

export type MediaFacesRow = Selectable<MediaFacesTable>;
export type SchoolSettingsRow = Selectable<SchoolSettingsTable>;

export type RightsJobRow = Selectable<RightsJobTable>;
export type AccessAuditRow = Selectable<AccessAuditTable>;
export type NewAuditEntry = Insertable<AccessAuditTable>;

export type MediaRow = Selectable<MediaTable>;

/**
 * The columns the API's view of an item is made of (a media record): what a list reads, and no
 * more. A row has twice as many (storage keys, leases, hashes, nine timestamps); reading and
 * parsing those for every item of every page was most of a list's work in the service.
 */
export const RECORD_COLUMNS = [
  'id',
  'tenant',
  'purpose',
  'status',
  'subjectIds',
  'classroomId',
  'uploadedBy',
  'contentType',
  'size',
  'width',
  'height',
  'sha256',
  'capturedAt',
  'filename',
  'kind',
  'durationSeconds',
  'placeholder',
  'createdAt',
  'processedAt',
  'legalHold',
  'variants',
  'rejectionCode',
  'rejectionDetail',
] as const satisfies readonly (keyof MediaRow)[];
export type RecordRow = Pick<MediaRow, (typeof RECORD_COLUMNS)[number]>;
export type NewMediaRow = Insertable<MediaTable>;
export type MediaUpdate = Updateable<MediaTable>;

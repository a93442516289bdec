import * as z from 'zod/mini';
import { answerSchema, described, pureSchema } from './pure-schema';
import { REJECTION_CODES } from './errors';
import { MEDIA_STATUSES, VARIANT_NAMES } from './media';
import { PURPOSES } from './purposes';

/** The HTTP contract (docs/architecture.md § Contract) as zod schemas: the one source of its types. */
// Each schema is a pure pureSchema call (pure-schema.ts): a bundle builds only the schemas its own
// routes reach, not every schema of the contract at cold start.
/** A platform identifier (a person, a classroom, an actor): a plain name, for the contract and the rights alike. */
export const identifier = /* @__PURE__ */ pureSchema(() =>
  z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only')),
);

/** The most people one item may name (a class photo). */
export const MAX_SUBJECTS = 100;

export const UploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    purpose: z.enum(PURPOSES),
    contentType: z
      .string()
      .check(z.minLength(3), z.maxLength(100), z.regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i, 'a MIME type such as image/jpeg')),
    size: z.int().check(z.positive()),
    filename: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    subjectId: described(z.optional(identifier), {
      description: 'The first person the item names (the same as `subjectIds[0]` when both are sent).',
    }),
    subjectIds: described(z.optional(z.array(identifier).check(z.maxLength(MAX_SUBJECTS))), {
      description: 'Every person the item names (a class photo: each child in it); none named: the item is about nobody.',
    }),
    classroomId: z.optional(identifier),
    /** Send the file in parts (S3 multipart): required at MEDIA_MULTIPART_THRESHOLD_BYTES and above, allowed above 5 MiB. */
    multipart: z.optional(z.boolean()),
  }),
);
export type UploadRequest = z.infer<typeof UploadRequest>;

export const BatchUploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    items: z.array(UploadRequest).check(z.minLength(1), z.maxLength(50)),
  }),
);

export const UploadTicket = /* @__PURE__ */ answerSchema(() =>
  z.object({
    mediaId: z.uuid(),
    upload: z.object({ url: z.url(), fields: z.record(z.string(), z.string()) }),
    expiresAt: z.iso.datetime(),
    maxBytes: z.int(),
  }),
);
export type UploadTicket = z.infer<typeof UploadTicket>;

/** The answer to an upload asked for with `multipart: true`: the parts are signed one call at a time. */
export const MultipartTicket = /* @__PURE__ */ answerSchema(() =>
  z.object({
    mediaId: z.uuid(),
    multipart: z.object({
      uploadId: z.string(),
      partSize: described(z.int(), { description: 'Bytes of every part but the last.' }),
      partCount: z.int(),
    }),
    expiresAt: z.iso.datetime(),
    maxBytes: z.int(),
  }),
);
export type MultipartTicket = z.infer<typeof MultipartTicket>;

const partNumber = /* @__PURE__ */ pureSchema(() => z.int().check(z.gte(1), z.lte(10_000)));

export const PartUrlsRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    partNumbers: z.array(partNumber).check(z.minLength(1), z.maxLength(100)),
  }),
);
export const PartUrlsAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    parts: z.array(z.object({ partNumber: z.int(), url: z.url(), expiresAt: z.iso.datetime() })),
  }),
);
export type PartUrlsAnswer = z.infer<typeof PartUrlsAnswer>;

export const UploadedPartsAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    parts: z.array(z.object({ partNumber: z.int(), etag: z.string(), size: z.int() })),
    /** The plan, again: a client that resumes after a reload may know only the media id. */
    partSize: z.int(),
    partCount: z.int(),
  }),
);
export type UploadedPartsAnswer = z.infer<typeof UploadedPartsAnswer>;

export const CompleteUploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    parts: z
      .array(z.strictObject({ partNumber, etag: z.string().check(z.minLength(1), z.maxLength(200)) }))
      .check(z.minLength(1), z.maxLength(10_000)),
  }),
);
export type CompleteUploadRequest = z.infer<typeof CompleteUploadRequest>;

export const MediaIdParam = /* @__PURE__ */ pureSchema(() => z.uuid('a media id (UUID)'));

export const isoDate = /* @__PURE__ */ pureSchema(() => z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time' }));

export const ListQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    purpose: z.optional(z.enum(PURPOSES)),
    subjectId: z.optional(identifier),
    classroomId: z.optional(identifier),
    status: z.optional(z.enum(MEDIA_STATUSES)),
    createdAfter: z.optional(isoDate),
    createdBefore: z.optional(isoDate),
    sha256: z.optional(z.string().check(z.regex(/^[a-f0-9]{64}$/, 'a lowercase hex SHA-256'))),
    duplicateOf: z.optional(z.uuid()),
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
    cursor: z.optional(z.string().check(z.maxLength(200), z.regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from nextCursor'))),
  }),
);
export type ListQuery = z.infer<typeof ListQuery>;

/** A variant of processing, or of the face stage (`blurred`, `faces/0`, `faces/1`, …). */
export const DownloadVariantName = /* @__PURE__ */ pureSchema(() =>
  described(z.union([z.enum(VARIANT_NAMES), z.literal('blurred'), z.templateLiteral(['faces/', z.int().check(z.gte(0), z.lte(999))])]), {
    description:
      'A processing variant, `blurred` (every face blurred), or `faces/N` (the Nth aligned face crop; ai-service, with consent).',
  }),
);

export const DownloadQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    variant: z._default(DownloadVariantName, 'medium'),
  }),
);

/** Ids of a gallery or a service's batch: at most 100, each answered on its own. */
export const MAX_DOWNLOAD_URLS = 100;

export const DownloadUrlsRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    // Any string up to a UUID's length and a little more: an id that names nothing is that item's 404, not the batch's 400.
    ids: z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(MAX_DOWNLOAD_URLS)),
    variant: z._default(DownloadVariantName, 'medium'),
  }),
);
export type DownloadUrlsRequest = z.infer<typeof DownloadUrlsRequest>;

export const LegalHoldBody = /* @__PURE__ */ pureSchema(() => z.strictObject({ hold: z.boolean() }));

export const UsageQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({ groupBy: z._default(z.enum(['purpose', 'subject']), 'purpose') }),
);

const Fraction = /* @__PURE__ */ pureSchema(() => z.number().check(z.gte(0), z.lte(1)));

/** A face found in the upright image (docs/imaging.md § Faces): every coordinate a fraction of its width or height. */
export const DetectedFace = /* @__PURE__ */ answerSchema(() =>
  z.object({
    box: z.object({ x: Fraction, y: Fraction, width: Fraction, height: Fraction }),
    landmarks: described(z.array(z.object({ x: z.number(), y: z.number() })), {
      description: 'Eye centres (image left, right), nose tip, mouth corners (left, right).',
    }),
    score: described(z.number(), { description: "The detector's confidence, 0–1." }),
    quality: z.object({
      templateError: described(z.number(), {
        description: 'RMS distance (px of a 112 px crop) of the five points from the frontal template.',
      }),
      poor: described(z.boolean(), { description: 'A profile, a tilt or a blur: the crop is not worth recognising.' }),
    }),
  }),
);

export const VariantRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    name: z.enum(VARIANT_NAMES),
    format: z.string(),
    width: z.int(),
    height: z.int(),
    size: z.int(),
  }),
);

export const MediaRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    id: z.uuid(),
    tenant: z.string(),
    purpose: z.enum(PURPOSES),
    status: z.enum(MEDIA_STATUSES),
    subjectId: described(z.nullable(z.string()), { description: 'The first of `subjectIds`; null when the item names nobody.' }),
    subjectIds: described(z.array(z.string()), { description: 'The people the item names, in the order given.' }),
    classroomId: z.nullable(z.string()),
    uploadedBy: z.string(),
    contentType: z.string(),
    size: z.nullable(z.int()),
    width: z.nullable(z.int()),
    height: z.nullable(z.int()),
    sha256: z.nullable(z.string()),
    capturedAt: described(z.nullable(z.iso.datetime({ offset: true, local: true })), {
      description:
        "When the photo was taken, from its EXIF DateTimeOriginal: with the camera's UTC offset when the file gives one (2024-03-02T08:15:04+01:00), else the camera's local time (2024-03-02T08:15:04). The only metadata kept from the upload; null when it has none.",
    }),
    filename: z.nullable(z.string()),
    kind: z.enum(['image', 'video']),
    durationSeconds: described(z.nullable(z.number()), { description: 'Length of a video in seconds (from its bytes); null for images.' }),
    placeholder: z.nullable(z.string()),
    createdAt: z.iso.datetime(),
    processedAt: z.nullable(z.iso.datetime()),
    legalHold: z.boolean(),
    rejection: z.optional(
      z.object({
        code: described(z.enum(REJECTION_CODES), { description: 'Why the bytes were refused; permanent for these bytes.' }),
        detail: z.string(),
      }),
    ),
    variants: z.array(VariantRecord),
    faces: described(z.optional(z.array(DetectedFace)), {
      description:
        "The faces the face stage found, once it ran: for the school's admins always, for ai-service where recognition is allowed, for nobody else. No embedding, no identity.",
    }),
  }),
);
export type MediaRecord = z.infer<typeof MediaRecord>;

export const DownloadAnswer = /* @__PURE__ */ answerSchema(() => z.object({ url: z.url(), expiresAt: z.iso.datetime() }));
export type DownloadAnswer = z.infer<typeof DownloadAnswer>;
/** The codes an item of a batch of URLs can be refused with (as a single download would answer). */
export const DOWNLOAD_ITEM_ERRORS = ['NOT_FOUND', 'FORBIDDEN', 'NOT_READY', 'CONSENT_REQUIRED'] as const;
export const DownloadUrlItem = /* @__PURE__ */ answerSchema(() =>
  z.union([
    z.object({ id: z.string(), url: z.url(), expiresAt: z.iso.datetime() }),
    z.object({ id: z.string(), error: z.object({ code: z.enum(DOWNLOAD_ITEM_ERRORS) }) }),
  ]),
);
export type DownloadUrlItem = z.infer<typeof DownloadUrlItem>;
export const DownloadUrlsAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(DownloadUrlItem) }));
export type DownloadUrlsAnswer = z.infer<typeof DownloadUrlsAnswer>;
export const ListAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(MediaRecord), nextCursor: z.nullable(z.string()) }));
export type ListAnswer = z.infer<typeof ListAnswer>;
export const UsageAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    items: z.array(z.object({ key: z.string(), count: z.int(), bytes: z.int() })),
  }),
);
export type UsageAnswer = z.infer<typeof UsageAnswer>;

/** The largest request body the API reads (JSON only: bytes go straight to storage, never through us). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

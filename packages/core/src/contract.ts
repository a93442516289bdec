// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';
import { answerSchema, pureSchema } from './pure-schema';
import { REJECTION_CODES } from './errors';
import { MEDIA_STATUSES, VARIANT_NAMES } from './media';
import { PURPOSES } from './purposes';

/** The HTTP contract (docs/architecture.md § Contract) as zod schemas: the one source of its types. */
// Each schema is a pure pureSchema call (pure-schema.ts): a bundle builds only the schemas its own
// routes reach, not every schema of the contract at cold start.
const identifier = /* @__PURE__ */ pureSchema(() =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only'),
);

/** The most people one item may name (a class photo). */
export const MAX_SUBJECTS = 100;

export const UploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    purpose: z.enum(PURPOSES),
    contentType: z
      .string()
      .min(3)
      .max(100)
      .regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i, 'a MIME type such as image/jpeg'),
    size: z.number().int().positive(),
    filename: z.string().min(1).max(255).optional(),
    subjectId: identifier
      .optional()
      .meta({ description: 'The first person the item names (the same as `subjectIds[0]` when both are sent).' }),
    subjectIds: z
      .array(identifier)
      .max(MAX_SUBJECTS)
      .optional()
      .meta({ description: 'Every person the item names (a class photo: each child in it); none named: the item is about nobody.' }),
    classroomId: identifier.optional(),
    /** Send the file in parts (S3 multipart): required at MEDIA_MULTIPART_THRESHOLD_BYTES and above, allowed above 5 MiB. */
    multipart: z.boolean().optional(),
  }),
);
export type UploadRequest = z.infer<typeof UploadRequest>;

export const BatchUploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    items: z.array(UploadRequest).min(1).max(50),
  }),
);

export const UploadTicket = /* @__PURE__ */ answerSchema(() =>
  z.object({
    mediaId: z.string().uuid(),
    upload: z.object({ url: z.string().url(), fields: z.record(z.string(), z.string()) }),
    expiresAt: z.string().datetime(),
    maxBytes: z.number().int(),
  }),
);
export type UploadTicket = z.infer<typeof UploadTicket>;

/** The answer to an upload asked for with `multipart: true`: the parts are signed one call at a time. */
export const MultipartTicket = /* @__PURE__ */ answerSchema(() =>
  z.object({
    mediaId: z.string().uuid(),
    multipart: z.object({
      uploadId: z.string(),
      partSize: z.number().int().meta({ description: 'Bytes of every part but the last.' }),
      partCount: z.number().int(),
    }),
    expiresAt: z.string().datetime(),
    maxBytes: z.number().int(),
  }),
);
export type MultipartTicket = z.infer<typeof MultipartTicket>;

const partNumber = /* @__PURE__ */ pureSchema(() => z.number().int().min(1).max(10_000));

export const PartUrlsRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    partNumbers: z.array(partNumber).min(1).max(100),
  }),
);
export const PartUrlsAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    parts: z.array(z.object({ partNumber: z.number().int(), url: z.string().url(), expiresAt: z.string().datetime() })),
  }),
);
export type PartUrlsAnswer = z.infer<typeof PartUrlsAnswer>;

export const UploadedPartsAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    parts: z.array(z.object({ partNumber: z.number().int(), etag: z.string(), size: z.number().int() })),
    /** The plan, again: a client that resumes after a reload may know only the media id. */
    partSize: z.number().int(),
    partCount: z.number().int(),
  }),
);
export type UploadedPartsAnswer = z.infer<typeof UploadedPartsAnswer>;

export const CompleteUploadRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    parts: z
      .array(z.strictObject({ partNumber, etag: z.string().min(1).max(200) }))
      .min(1)
      .max(10_000),
  }),
);
export type CompleteUploadRequest = z.infer<typeof CompleteUploadRequest>;

export const MediaIdParam = /* @__PURE__ */ pureSchema(() => z.string().uuid('a media id (UUID)'));

const isoDate = /* @__PURE__ */ pureSchema(() => z.string().datetime({ offset: true, message: 'an ISO 8601 date-time' }));

export const ListQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    purpose: z.enum(PURPOSES).optional(),
    subjectId: identifier.optional(),
    classroomId: identifier.optional(),
    status: z.enum(MEDIA_STATUSES).optional(),
    createdAfter: isoDate.optional(),
    createdBefore: isoDate.optional(),
    sha256: z
      .string()
      .regex(/^[a-f0-9]{64}$/, 'a lowercase hex SHA-256')
      .optional(),
    duplicateOf: z.string().uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from nextCursor')
      .optional(),
  }),
);
export type ListQuery = z.infer<typeof ListQuery>;

/** A variant of processing, or of the face stage (`blurred`, `faces/0`, `faces/1`, …). */
export const DownloadVariantName = /* @__PURE__ */ pureSchema(() =>
  z.union([z.enum(VARIANT_NAMES), z.literal('blurred'), z.templateLiteral(['faces/', z.number().int().min(0).max(999)])]).meta({
    description:
      'A processing variant, `blurred` (every face blurred), or `faces/N` (the Nth aligned face crop; ai-service, with consent).',
  }),
);

export const DownloadQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    variant: DownloadVariantName.default('medium'),
  }),
);

/** Ids of a gallery or a service's batch: at most 100, each answered on its own. */
export const MAX_DOWNLOAD_URLS = 100;

export const DownloadUrlsRequest = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    // Any string up to a UUID's length and a little more: an id that names nothing is that item's 404, not the batch's 400.
    ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_DOWNLOAD_URLS),
    variant: DownloadVariantName.default('medium'),
  }),
);
export type DownloadUrlsRequest = z.infer<typeof DownloadUrlsRequest>;

export const LegalHoldBody = /* @__PURE__ */ pureSchema(() => z.strictObject({ hold: z.boolean() }));

export const UsageQuery = /* @__PURE__ */ pureSchema(() => z.strictObject({ groupBy: z.enum(['purpose', 'subject']).default('purpose') }));

const Fraction = /* @__PURE__ */ pureSchema(() => z.number().min(0).max(1));

/** A face found in the upright image (docs/imaging.md § Faces): every coordinate a fraction of its width or height. */
export const DetectedFace = /* @__PURE__ */ answerSchema(() =>
  z.object({
    box: z.object({ x: Fraction, y: Fraction, width: Fraction, height: Fraction }),
    landmarks: z
      .array(z.object({ x: z.number(), y: z.number() }))
      .meta({ description: 'Eye centres (image left, right), nose tip, mouth corners (left, right).' }),
    score: z.number().meta({ description: "The detector's confidence, 0–1." }),
    quality: z.object({
      templateError: z.number().meta({ description: 'RMS distance (px of a 112 px crop) of the five points from the frontal template.' }),
      poor: z.boolean().meta({ description: 'A profile, a tilt or a blur: the crop is not worth recognising.' }),
    }),
  }),
);

export const VariantRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    name: z.enum(VARIANT_NAMES),
    format: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    size: z.number().int(),
  }),
);

export const MediaRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    id: z.string().uuid(),
    tenant: z.string(),
    purpose: z.enum(PURPOSES),
    status: z.enum(MEDIA_STATUSES),
    subjectId: z.string().nullable().meta({ description: 'The first of `subjectIds`; null when the item names nobody.' }),
    subjectIds: z.array(z.string()).meta({ description: 'The people the item names, in the order given.' }),
    classroomId: z.string().nullable(),
    uploadedBy: z.string(),
    contentType: z.string(),
    size: z.number().int().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    sha256: z.string().nullable(),
    capturedAt: z.iso.datetime({ offset: true, local: true }).nullable().meta({
      description:
        "When the photo was taken, from its EXIF DateTimeOriginal: with the camera's UTC offset when the file gives one (2024-03-02T08:15:04+01:00), else the camera's local time (2024-03-02T08:15:04). The only metadata kept from the upload; null when it has none.",
    }),
    filename: z.string().nullable(),
    kind: z.enum(['image', 'video']),
    durationSeconds: z.number().nullable().meta({ description: 'Length of a video in seconds (from its bytes); null for images.' }),
    placeholder: z.string().nullable(),
    createdAt: z.string().datetime(),
    processedAt: z.string().datetime().nullable(),
    legalHold: z.boolean(),
    rejection: z
      .object({
        code: z.enum(REJECTION_CODES).meta({ description: 'Why the bytes were refused; permanent for these bytes.' }),
        detail: z.string(),
      })
      .optional(),
    variants: z.array(VariantRecord),
    faces: z.array(DetectedFace).optional().meta({
      description:
        "The faces the face stage found, once it ran: for the school's admins always, for ai-service where recognition is allowed, for nobody else. No embedding, no identity.",
    }),
  }),
);
export type MediaRecord = z.infer<typeof MediaRecord>;

export const DownloadAnswer = /* @__PURE__ */ answerSchema(() => z.object({ url: z.string().url(), expiresAt: z.string().datetime() }));
export type DownloadAnswer = z.infer<typeof DownloadAnswer>;
/** The codes an item of a batch of URLs can be refused with (as a single download would answer). */
export const DOWNLOAD_ITEM_ERRORS = ['NOT_FOUND', 'FORBIDDEN', 'NOT_READY', 'CONSENT_REQUIRED'] as const;
export const DownloadUrlItem = /* @__PURE__ */ answerSchema(() =>
  z.union([
    z.object({ id: z.string(), url: z.string().url(), expiresAt: z.string().datetime() }),
    z.object({ id: z.string(), error: z.object({ code: z.enum(DOWNLOAD_ITEM_ERRORS) }) }),
  ]),
);
export type DownloadUrlItem = z.infer<typeof DownloadUrlItem>;
export const DownloadUrlsAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(DownloadUrlItem) }));
export type DownloadUrlsAnswer = z.infer<typeof DownloadUrlsAnswer>;
export const ListAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(MediaRecord), nextCursor: z.string().nullable() }));
export type ListAnswer = z.infer<typeof ListAnswer>;
export const UsageAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    items: z.array(z.object({ key: z.string(), count: z.number().int(), bytes: z.number().int() })),
  }),
);
export type UsageAnswer = z.infer<typeof UsageAnswer>;

/** The largest request body the API reads (JSON only: bytes go straight to storage, never through us). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

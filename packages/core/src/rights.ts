import * as z from 'zod/mini';
import { answerSchema, described, pureSchema } from './pure-schema';
import { MediaError } from './errors';
import { DownloadVariantName, identifier, isoDate } from './contract';
import { rulesOf } from './authorization';
import { PURPOSES, type Purpose } from './purposes';
import { policySubjectOf, type PolicySubject, type Principal } from './principal';

/**
 * The rights of the people the photos are about (docs/privacy.md): consent to face recognition and
 * to model training, the access audit, retention, erasure and export. The contract's schemas and
 * who may use each right live here, as data.
 */
// Pure, as contract.ts's schemas are (pure-schema.ts): built only in the bundles whose routes reach them;
// identifiers and dates are the contract's own.
export const SubjectIdParam = identifier;

// A partial update: a field left out keeps its recorded value (false for a person never asked).
export const ConsentBody = /* @__PURE__ */ pureSchema(() =>
  z
    .strictObject({
      recognition: described(z.optional(z.boolean()), { description: 'Left out: keeps its recorded value.' }),
      training: described(z.optional(z.boolean()), { description: 'Left out: keeps its recorded value.' }),
    })
    .check(
      z.refine((body) => body.recognition !== undefined || body.training !== undefined, { message: 'name recognition, training or both' }),
      z.meta({ description: 'The consents to change; a field left out keeps its value, so one field alone changes only that one.' }),
    ),
);
export type ConsentBody = z.infer<typeof ConsentBody>;

export const ConsentRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    subjectId: z.string(),
    recognition: described(z.boolean(), { description: 'Face recognition may match this person against their profile photos.' }),
    training: described(z.boolean(), { description: 'Training photos naming this person may be used to train models.' }),
    updatedAt: described(z.nullable(z.iso.datetime()), { description: 'Null for a subject whose consent was never given.' }),
    updatedBy: z.nullable(z.string()),
  }),
);
export type ConsentRecord = z.infer<typeof ConsentRecord>;

/** What a school's admin decides for the whole school (docs/privacy.md § Faces). */
export const SchoolSettingsBody = /* @__PURE__ */ pureSchema(() =>
  described(
    z.strictObject({
      recognitionForAttendance: described(z.boolean(), {
        description:
          "Attendance photos may be used for face recognition (aligned face crops for ai-service) whatever their subjects' own consent.",
      }),
    }),
    { description: "The school's settings to record." },
  ),
);
export type SchoolSettingsBody = z.infer<typeof SchoolSettingsBody>;

export const SchoolSettings = /* @__PURE__ */ answerSchema(() =>
  z.object({
    recognitionForAttendance: z.boolean(),
    updatedAt: described(z.nullable(z.iso.datetime()), { description: 'Null while no admin ever set them (the defaults).' }),
    updatedBy: z.nullable(z.string()),
  }),
);
export type SchoolSettings = z.infer<typeof SchoolSettings>;

export const AUDIT_ACTIONS = ['download', 'delete', 'legal-hold', 'consent', 'erasure', 'export', 'setting'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    mediaId: z.optional(z.uuid()),
    subjectId: z.optional(identifier),
    actor: z.optional(identifier),
    action: z.optional(z.enum(AUDIT_ACTIONS)),
    after: z.optional(isoDate),
    before: z.optional(isoDate),
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(200)), 50),
    cursor: z.optional(z.string().check(z.maxLength(200), z.regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from nextCursor'))),
  }),
);
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditEntry = /* @__PURE__ */ answerSchema(() =>
  z.object({
    at: z.iso.datetime(),
    actor: z.string(),
    actorRole: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    mediaId: z.nullable(z.string()),
    subjectId: z.nullable(z.string()),
    variant: z.nullable(DownloadVariantName),
    requestId: z.nullable(z.string()),
  }),
);
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(AuditEntry), nextCursor: z.nullable(z.string()) }));

export const RetentionPreviewQuery = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({ withinDays: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(3650)), 30) }),
);
export const RetentionPreviewAnswer = /* @__PURE__ */ answerSchema(() =>
  z.object({
    items: z.array(
      z.object({
        purpose: z.enum(PURPOSES),
        count: z.int(),
        bytes: z.int(),
        firstExpiry: z.nullable(z.iso.datetime()),
      }),
    ),
  }),
);
export type RetentionPreviewAnswer = z.infer<typeof RetentionPreviewAnswer>;

/** `queued`: recorded, no worker has touched it yet; `running`: under way; `done`. */
export const JOB_STATUSES = ['queued', 'running', 'done'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const ErasureAccepted = /* @__PURE__ */ answerSchema(() => z.object({ erasureId: z.uuid(), status: z.enum(JOB_STATUSES) }));
export const ErasureRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    erasureId: z.uuid(),
    subjectId: z.string(),
    status: z.enum(JOB_STATUSES),
    total: described(z.int(), { description: 'Items naming the subject found so far.' }),
    deleted: described(z.int(), { description: 'Items deleted: those naming the subject alone.' }),
    untagged: described(z.int(), { description: 'Shared items kept, with the subject no longer named on them (others are).' }),
    heldBack: described(z.int(), { description: 'Items kept because they are under legal hold.' }),
  }),
);
export type ErasureRecord = z.infer<typeof ErasureRecord>;
export const ExportAccepted = /* @__PURE__ */ answerSchema(() => z.object({ exportId: z.uuid(), status: z.enum(JOB_STATUSES) }));
export const ExportRecord = /* @__PURE__ */ answerSchema(() =>
  z.object({
    exportId: z.uuid(),
    status: z.enum(JOB_STATUSES),
    items: z.int(),
    bytes: described(z.int(), { description: 'Size of the ZIP file.' }),
    url: described(z.optional(z.url()), { description: 'A short-lived download URL of the ZIP, once done.' }),
    expiresAt: z.optional(z.iso.datetime()),
  }),
);
export type ExportRecord = z.infer<typeof ExportRecord>;
export const JobIdParam = /* @__PURE__ */ pureSchema(() => z.uuid());

export type Right = 'consent:write' | 'consent:read' | 'audit' | 'retention' | 'erasure' | 'export' | 'settings';

/**
 * Who may use each right, read against the rights issue. `self`: a person about themselves (the
 * subject id is their own `sub`); services never count as a subject.
 */
export const RIGHTS_POLICY: Record<Right, { who: readonly PolicySubject[]; self: boolean }> = {
  'consent:write': { who: ['admin', 'user-service'], self: false },
  'consent:read': { who: ['admin', 'user-service', 'ai-service'], self: true },
  audit: { who: ['admin'], self: false },
  retention: { who: ['admin'], self: false },
  erasure: { who: ['admin', 'user-service'], self: false },
  export: { who: ['admin', 'user-service'], self: false },
  settings: { who: ['admin'], self: false },
};

/** Refuses (403) a principal who may not use `right`, for the subject named if any. */
export function authorizeRight(principal: Principal, right: Right, subjectId?: string): void {
  const rule = RIGHTS_POLICY[right];
  if (rule.who.includes(policySubjectOf(principal))) return;
  if (rule.self && principal.role !== 'service' && subjectId !== undefined && subjectId === principal.sub) return;
  throw new MediaError('FORBIDDEN', `You may not use this right (${right}).`);
}

/**
 * What an erasure or export asked by `principal` covers: the items naming the person of the
 * purposes the principal may read throughout the school (an administrator: all; user-service:
 * profiles). Nobody erases or receives through a right what they could not read item by item.
 */
export function rightsScopeOf(principal: Principal): Purpose[] {
  const schoolWide = new Set(
    rulesOf(principal)
      .read.filter((grant) => grant.relations.includes('tenant'))
      .flatMap((grant) => grant.purposes),
  );
  return PURPOSES.filter((purpose) => schoolWide.has(purpose));
}

import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import {
  BatchUploadRequest,
  DownloadAnswer,
  DownloadQuery,
  LegalHoldBody,
  ListAnswer,
  ListQuery,
  MediaIdParam,
  MediaRecord,
  UploadRequest,
  UploadTicket,
  UsageAnswer,
  UsageQuery,
} from './contract';
import { ERRORS, type ErrorCode } from './errors';

/**
 * The OpenAPI 3.1 document of the HTTP contract (docs/architecture.md § Contract), generated from the zod schemas in
 * contract.ts so the two cannot disagree. `npm run openapi` writes it to docs/openapi.json; the
 * local stack serves it at GET /openapi.json.
 */

const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

export const ProblemDocument = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES).meta({ description: 'Stable machine-readable error code; branch on this, not on the status.' }),
    instance: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: 'Which fields were invalid (400 only).' }),
  })
  .meta({ description: 'RFC 9457 problem details with a stable `code`.' });

const BatchUploadAnswer = z.object({ items: z.array(UploadTicket) });
const HealthAnswer = z.object({ status: z.literal('ok') });
const IdPath = z.object({ id: MediaIdParam.meta({ description: 'Media id (UUIDv7).' }) });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

const retryAfter = z.object({
  'retry-after': z.string().meta({ description: 'Seconds to wait before asking again.' }),
});

/** One response per status, naming the codes a route may answer with under it. */
function problemResponses(codes: readonly ErrorCode[]): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status) as '400'] = {
      description: list.map((code) => `\`${code}\`: ${ERRORS[code].title}`).join('; '),
      content: { 'application/problem+json': { schema: ProblemDocument } },
      ...(list.includes('TOO_MANY_PENDING_UPLOADS') ? { headers: retryAfter } : {}),
    };
  }
  responses.default = {
    description: '`INTERNAL` or `SERVICE_UNAVAILABLE`: something failed on our side; never caused by what the client sent',
    content: { 'application/problem+json': { schema: ProblemDocument } },
  };
  return responses;
}

const AUTH: readonly ErrorCode[] = ['UNAUTHENTICATED'];
const UPLOAD_ERRORS: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  ...AUTH,
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_PENDING_UPLOADS',
];

interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  auth?: false;
  byId?: true;
  query?: z.ZodObject;
  body?: z.ZodType;
  success: ZodOpenApiResponsesObject;
  errors: readonly ErrorCode[];
}

/** Every route of the contract (docs/architecture.md § Contract), with the problem codes each one can answer with. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/uploads',
    operationId: 'requestUpload',
    summary: 'Ask for an upload: a pending record and a presigned S3 POST',
    body: UploadRequest,
    success: { 201: json(UploadTicket, 'The presigned POST; send the file straight to storage with it.') },
    errors: UPLOAD_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/uploads/batch',
    operationId: 'requestUploads',
    summary: 'Ask for up to 50 uploads at once; accepted or refused as a whole',
    body: BatchUploadRequest,
    success: { 201: json(BatchUploadAnswer, 'One ticket per item, in order.') },
    errors: UPLOAD_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/media',
    operationId: 'listMedia',
    summary: 'List the media visible to the caller, newest first',
    query: ListQuery,
    success: { 200: json(ListAnswer, 'A page; pass nextCursor as cursor for the next one.') },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/v1/media/{id}',
    operationId: 'getMedia',
    summary: 'One media record',
    byId: true,
    success: { 200: json(MediaRecord, 'The record.') },
    errors: [...AUTH, 'NOT_FOUND'],
  },
  {
    method: 'delete',
    path: '/v1/media/{id}',
    operationId: 'deleteMedia',
    summary: 'Delete: the record becomes a tombstone and every object leaves the bucket',
    byId: true,
    success: { 204: { description: 'Deleted.' } },
    errors: [...AUTH, 'FORBIDDEN', 'NOT_FOUND', 'LEGAL_HOLD'],
  },
  {
    method: 'put',
    path: '/v1/media/{id}/legal-hold',
    operationId: 'setLegalHold',
    summary: 'Place or lift a legal hold (administrators)',
    byId: true,
    body: LegalHoldBody,
    success: { 200: json(MediaRecord, 'The record with its new hold.') },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/v1/media/{id}/download',
    operationId: 'downloadUrl',
    summary: 'A short-lived presigned GET for one variant',
    byId: true,
    query: DownloadQuery,
    success: { 200: json(DownloadAnswer, 'The URL and when it expires.') },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND', 'NOT_READY'],
  },
  {
    method: 'get',
    path: '/v1/usage',
    operationId: 'usage',
    summary: "Count and bytes of the tenant's media, grouped by purpose or subject",
    query: UsageQuery,
    success: { 200: json(UsageAnswer, 'One row per group.') },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN'],
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness',
    auth: false,
    success: { 200: json(HealthAnswer, 'The service answers.') },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This document',
    auth: false,
    success: { 200: { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: z.looseObject({}) } } } },
    errors: [],
  },
];

function operationObject(op: Operation): ZodOpenApiOperationObject {
  const requestParams = {
    ...(op.byId ? { path: IdPath } : {}),
    ...(op.query ? { query: op.query } : {}),
  };
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.auth === false ? { security: [] } : {}),
    ...(Object.keys(requestParams).length ? { requestParams } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
    responses: { ...op.success, ...(op.auth === false ? {} : problemResponses(op.errors)) },
  };
}

function buildDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of OPERATIONS) paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Media service',
      version: '1.0.0',
      description:
        'Direct-to-storage media uploads for the school platform. Ask for an upload, POST the file to the ' +
        'presigned URL, wait for the record to become `ready`, then ask for short-lived download URLs.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        UploadRequest,
        UploadTicket,
        MediaRecord,
        Problem: ProblemDocument,
      },
    },
  }, {
    // zod closes output objects (additionalProperties: false); answers may gain fields over time,
    // so clients must not be told to refuse them. Request bodies stay strict.
    override: ({ jsonSchema, io }) => {
      if (io === 'output' && jsonSchema.type === 'object' && jsonSchema.additionalProperties === false) {
        delete jsonSchema.additionalProperties;
      }
    },
  });
}

let cached: ReturnType<typeof buildDocument> | undefined;

/** The document; built once per process (it only depends on code). */
export function openApiDocument() {
  cached ??= buildDocument();
  return cached;
}

/** The exact text of docs/openapi.json. */
export const openApiJson = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

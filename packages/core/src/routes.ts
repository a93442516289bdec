// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';
import {
  BatchUploadRequest,
  CompleteUploadRequest,
  MultipartTicket,
  PartUrlsAnswer,
  PartUrlsRequest,
  UploadedPartsAnswer,
  DownloadAnswer,
  DownloadQuery,
  DownloadUrlsAnswer,
  DownloadUrlsRequest,
  LegalHoldBody,
  ListAnswer,
  ListQuery,
  MediaRecord,
  UploadRequest,
  UploadTicket,
  UsageAnswer,
  UsageQuery,
} from './contract';
import type { ErrorCode } from './errors';
import {
  AuditAnswer,
  AuditQuery,
  ConsentBody,
  ConsentRecord,
  ErasureAccepted,
  ErasureRecord,
  ExportAccepted,
  ExportRecord,
  RetentionPreviewAnswer,
  RetentionPreviewQuery,
} from './rights';

/**
 * The HTTP API's routes (docs/architecture.md § Contract): one table for the handlers' routing,
 * the local HTTP server, the CDK HTTP API and the OpenAPI document, so none can drift from the
 * others. Each route names the function behind it and, for the document, its schemas and the
 * problem codes it can answer with.
 */
export type ApiFunctionName = 'request-upload' | 'get-download' | 'media-api';

export interface ApiRouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fn: ApiFunctionName;
  /** Answered without a token (health checks, the contract). */
  public?: true;
  operationId: string;
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success answer; no schema for an empty body. */
  answer: { status: 200 | 201 | 202 | 204; description: string; schema?: z.ZodType };
  /** The problem codes the route can answer with (besides INTERNAL and SERVICE_UNAVAILABLE). */
  errors: readonly ErrorCode[];
}

export const BatchUploadAnswer = z.object({ items: z.array(UploadTicket) });
export const HealthAnswer = z.object({ status: z.literal('ok') });

const AUTH: readonly ErrorCode[] = ['UNAUTHENTICATED'];
const UPLOAD_ERRORS: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  'INVALID_SUBJECT',
  ...AUTH,
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_PENDING_UPLOADS',
];

const MULTIPART_ERRORS: readonly ErrorCode[] = ['VALIDATION_FAILED', ...AUTH, 'NOT_FOUND', 'CONFLICT'];

export const API_ROUTES: readonly ApiRouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/uploads',
    fn: 'request-upload',
    operationId: 'requestUpload',
    summary: 'Ask for an upload: a pending record and a presigned S3 POST, or a multipart upload whose parts are signed on request',
    body: UploadRequest,
    answer: {
      status: 201,
      schema: z.union([UploadTicket, MultipartTicket]),
      description: 'The presigned POST (send the file straight to storage with it), or, with multipart: true, the multipart upload.',
    },
    errors: UPLOAD_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/{id}/parts',
    fn: 'request-upload',
    operationId: 'signUploadParts',
    summary: 'Presigned PUT URLs for parts of a multipart upload (the uploader only; up to 100 per call)',
    body: PartUrlsRequest,
    answer: { status: 200, schema: PartUrlsAnswer, description: 'One URL per part number, in order; PUT the part to it and keep the ETag.' },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'GET',
    path: '/v1/uploads/{id}/parts',
    fn: 'request-upload',
    operationId: 'listUploadParts',
    summary: 'The parts storage holds so far (to resume after a reload or a lost connection)',
    answer: { status: 200, schema: UploadedPartsAnswer, description: 'The parts received, by part number.' },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/{id}/complete',
    fn: 'request-upload',
    operationId: 'completeUpload',
    summary: 'Assemble the parts; processing starts as for any upload',
    body: CompleteUploadRequest,
    answer: { status: 200, schema: MediaRecord, description: 'The record, processing or later.' },
    errors: [...MULTIPART_ERRORS, 'UPLOAD_MISMATCH'],
  },
  {
    method: 'DELETE',
    path: '/v1/uploads/{id}',
    fn: 'request-upload',
    operationId: 'abortUpload',
    summary: 'Abort a multipart upload: its parts are removed and the record becomes expired',
    answer: { status: 204, description: 'Aborted.' },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/batch',
    fn: 'request-upload',
    operationId: 'requestUploads',
    summary: 'Ask for up to 50 uploads at once; accepted or refused as a whole',
    body: BatchUploadRequest,
    answer: { status: 201, schema: BatchUploadAnswer, description: 'One ticket per item, in order.' },
    errors: UPLOAD_ERRORS,
  },
  {
    method: 'GET',
    path: '/v1/media',
    fn: 'media-api',
    operationId: 'listMedia',
    summary: 'List the media visible to the caller, newest first',
    query: ListQuery,
    answer: { status: 200, schema: ListAnswer, description: 'A page; pass nextCursor as cursor for the next one.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'GET',
    path: '/v1/media/{id}',
    fn: 'media-api',
    operationId: 'getMedia',
    summary: 'One media record',
    answer: { status: 200, schema: MediaRecord, description: 'The record.' },
    errors: [...AUTH, 'NOT_FOUND'],
  },
  {
    method: 'DELETE',
    path: '/v1/media/{id}',
    fn: 'media-api',
    operationId: 'deleteMedia',
    summary: 'Delete: the record becomes a tombstone and every object leaves the bucket',
    answer: { status: 204, description: 'Deleted.' },
    errors: [...AUTH, 'FORBIDDEN', 'NOT_FOUND', 'LEGAL_HOLD'],
  },
  {
    method: 'PUT',
    path: '/v1/media/{id}/legal-hold',
    fn: 'media-api',
    operationId: 'setLegalHold',
    summary: 'Place or lift a legal hold (administrators)',
    body: LegalHoldBody,
    answer: { status: 200, schema: MediaRecord, description: 'The record with its new hold.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'GET',
    path: '/v1/media/{id}/download',
    fn: 'get-download',
    operationId: 'downloadUrl',
    summary: 'A short-lived presigned GET for one variant',
    query: DownloadQuery,
    answer: { status: 200, schema: DownloadAnswer, description: 'The URL and when it expires.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND', 'NOT_READY', 'CONSENT_REQUIRED'],
  },
  {
    method: 'POST',
    path: '/v1/media/download-urls',
    fn: 'get-download',
    operationId: 'downloadUrls',
    summary: 'Short-lived URLs for up to 100 items (a gallery), one policy decision per item',
    body: DownloadUrlsRequest,
    answer: {
      status: 200,
      schema: DownloadUrlsAnswer,
      description: 'One entry per id, in order: its URL, or why not (NOT_FOUND, FORBIDDEN, NOT_READY).',
    },
    errors: ['VALIDATION_FAILED', ...AUTH, 'PAYLOAD_TOO_LARGE'],
  },
  {
    method: 'GET',
    path: '/v1/usage',
    fn: 'media-api',
    operationId: 'usage',
    summary: "Count and bytes of the tenant's media, grouped by purpose or subject",
    query: UsageQuery,
    answer: { status: 200, schema: UsageAnswer, description: 'One row per group.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'COUNTS_ONLY'],
  },
  {
    method: 'PUT',
    path: '/v1/subjects/{subjectId}/consent',
    fn: 'media-api',
    operationId: 'setConsent',
    summary: "Record a person's consent to face recognition and to model training (administrators, user-service)",
    body: ConsentBody,
    answer: { status: 200, schema: ConsentRecord, description: 'The consent as recorded; a withdrawal applies to the next URL asked for.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'INVALID_SUBJECT'],
  },
  {
    method: 'GET',
    path: '/v1/subjects/{subjectId}/consent',
    fn: 'media-api',
    operationId: 'getConsent',
    summary: "A person's consent (administrators, user-service, ai-service, the person)",
    answer: { status: 200, schema: ConsentRecord, description: 'The consent; both false for a person never asked.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'INVALID_SUBJECT'],
  },
  {
    method: 'GET',
    path: '/v1/audit',
    fn: 'media-api',
    operationId: 'listAudit',
    summary: 'The access audit log of the school, newest first (administrators)',
    query: AuditQuery,
    answer: { status: 200, schema: AuditAnswer, description: 'A page; pass nextCursor as cursor for the next one.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN'],
  },
  {
    method: 'GET',
    path: '/v1/retention/preview',
    fn: 'media-api',
    operationId: 'previewRetention',
    summary: 'What the retention runs will delete within the coming days, per purpose (administrators)',
    query: RetentionPreviewQuery,
    answer: { status: 200, schema: RetentionPreviewAnswer, description: 'One row per purpose with a retention period.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN'],
  },
  {
    method: 'POST',
    path: '/v1/subjects/{subjectId}/erasure',
    fn: 'media-api',
    operationId: 'requestErasure',
    summary: 'Erase every media item naming a person (of the purposes the caller may read), and their consent (administrators, user-service)',
    answer: { status: 202, schema: ErasureAccepted, description: 'The erasure runs in the background; follow it at /v1/erasures/{erasureId}.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'INVALID_SUBJECT'],
  },
  {
    method: 'GET',
    path: '/v1/erasures/{erasureId}',
    fn: 'media-api',
    operationId: 'getErasure',
    summary: 'The progress of an erasure',
    answer: { status: 200, schema: ErasureRecord, description: 'Counts so far; `done` once every item is deleted or held back.' },
    errors: [...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'POST',
    path: '/v1/subjects/{subjectId}/export',
    fn: 'media-api',
    operationId: 'requestExport',
    summary: 'Gather every ready item naming a person (of the purposes the caller may read) into one ZIP file (administrators, user-service)',
    answer: { status: 202, schema: ExportAccepted, description: 'The export runs in the background; follow it at /v1/exports/{exportId}.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'INVALID_SUBJECT'],
  },
  {
    method: 'GET',
    path: '/v1/exports/{exportId}',
    fn: 'media-api',
    operationId: 'getExport',
    summary: 'The state of an export, and once done a short-lived URL of its ZIP file',
    answer: { status: 200, schema: ExportRecord, description: 'The export; `url` once done.' },
    errors: [...AUTH, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    method: 'GET',
    path: '/health',
    fn: 'media-api',
    public: true,
    operationId: 'health',
    summary: 'Liveness',
    answer: { status: 200, schema: HealthAnswer, description: 'The service answers.' },
    errors: [],
  },
  {
    method: 'GET',
    path: '/openapi.json',
    fn: 'media-api',
    public: true,
    operationId: 'openApiDocument',
    summary: 'This document',
    answer: { status: 200, schema: z.looseObject({}), description: 'The OpenAPI 3.1 document.' },
    errors: [],
  },
];

export const routeKeyOf = (route: Pick<ApiRouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;

const PATTERNS = API_ROUTES.map((route) => ({
  route,
  regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
}));

/**
 * The route a raw method and path name, with its decoded path parameters: for callers that see
 * no route key (a Lambda function URL sends every request as `$default`).
 */
export function matchRoute(method: string, path: string): { route: ApiRouteSpec; params: Record<string, string> } | undefined {
  for (const { route, regex } of PATTERNS) {
    const match = route.method === method ? regex.exec(path) : null;
    if (!match) continue;
    try {
      return { route, params: Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)])) };
    } catch {
      return undefined; // a malformed escape names nothing
    }
  }
  return undefined;
}

/** The methods routes serve on this path: where a request's method is not among them, 405, not 404. */
export const methodsAt = (path: string): string[] => PATTERNS.filter(({ regex }) => regex.test(path)).map(({ route }) => route.method);

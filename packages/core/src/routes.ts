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
import { notFound, type ErrorCode, type MediaError } from './errors';
import { fromZodError } from './problem';
import { MediaIdParam } from './contract';
import {
  AuditAnswer,
  AuditQuery,
  ConsentBody,
  ConsentRecord,
  SchoolSettings,
  SchoolSettingsBody,
  ErasureAccepted,
  ErasureRecord,
  ExportAccepted,
  ExportRecord,
  RetentionPreviewAnswer,
  RetentionPreviewQuery,
  JobIdParam,
  SubjectIdParam,
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

/**
 * Every path parameter a route may name: its schema, and what a value it refuses means. A malformed
 * id names nothing that exists, so it gets the same 404 as an unknown one; a malformed subject id
 * is a bad request.
 */
export const PATH_PARAMETERS = {
  id: {
    schema: MediaIdParam,
    description: 'Media id (UUIDv7).',
    refused: (path: string) => notFound(path.startsWith('/v1/uploads') ? 'upload' : 'media'),
  },
  subjectId: { schema: SubjectIdParam, description: "The person's id on the platform.", refused: undefined },
  erasureId: { schema: JobIdParam, description: 'Erasure id, as answered by the erasure request.', refused: () => notFound('erasure') },
  exportId: { schema: JobIdParam, description: 'Export id, as answered by the export request.', refused: () => notFound('export') },
} as const satisfies Record<
  string,
  { schema: z.ZodType<string>; description: string; refused: ((path: string) => MediaError) | undefined }
>;

type PathParameterName = keyof typeof PATH_PARAMETERS;
/** The names in a path's `{…}` segments, as a type: `'/v1/media/{id}'` → `'id'`. */
type PathParameterNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParameterNames<Rest> : never;

export const BatchUploadAnswer = z.object({ items: z.array(UploadTicket) });
export const HealthAnswer = z.object({ status: z.literal('ok') });

// Every route with a token can be throttled: the caller's school over its rate (RATE_LIMITED, 429).
const AUTH: readonly ErrorCode[] = ['UNAUTHENTICATED', 'RATE_LIMITED'];
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

export const API_ROUTES = [
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
    answer: {
      status: 200,
      schema: PartUrlsAnswer,
      description: 'One URL per part number, in order; PUT the part to it and keep the ETag.',
    },
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
    path: '/v1/settings',
    fn: 'media-api',
    operationId: 'getSchoolSettings',
    summary: "The school's settings (administrators)",
    answer: { status: 200, schema: SchoolSettings, description: 'The settings; the defaults while no admin set them.' },
    errors: [...AUTH, 'FORBIDDEN'],
  },
  {
    method: 'PUT',
    path: '/v1/settings',
    fn: 'media-api',
    operationId: 'setSchoolSettings',
    summary: "Record the school's settings: recognition for attendance photos (administrators; audited)",
    body: SchoolSettingsBody,
    answer: { status: 200, schema: SchoolSettings, description: 'The settings as recorded; turned off, the crops it allowed are removed.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN'],
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
    summary:
      'Erase every media item naming a person (of the purposes the caller may read), and their consent (administrators, user-service)',
    answer: {
      status: 202,
      schema: ErasureAccepted,
      description: 'The erasure runs in the background; follow it at /v1/erasures/{erasureId}.',
    },
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
    summary:
      'Gather every ready item naming a person (of the purposes the caller may read) into one ZIP file (administrators, user-service)',
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
    // Counted against the budget of requests without a token, like any caller without one.
    errors: ['RATE_LIMITED'],
  },
  {
    method: 'GET',
    path: '/openapi.json',
    fn: 'media-api',
    public: true,
    operationId: 'openApiDocument',
    summary: 'This document',
    answer: { status: 200, schema: z.looseObject({}), description: 'The OpenAPI 3.1 document.' },
    // Counted against the budget of requests without a token, like any caller without one.
    errors: ['RATE_LIMITED'],
  },
] as const satisfies readonly ApiRouteSpec[];

export type ApiRoute = (typeof API_ROUTES)[number];
export type OperationId = ApiRoute['operationId'];
/** The routes one function serves. */
export type RoutesOf<F extends ApiFunctionName> = Extract<ApiRoute, { fn: F }>;

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
/** What a route's handler receives: its path parameters, query and body, each parsed by the route's own schema. */
export interface RouteInput<R extends ApiRoute> {
  params: { [K in PathParameterNames<R['path']> & PathParameterName]: z.output<(typeof PATH_PARAMETERS)[K]['schema']> };
  query: Parsed<R extends { query: infer Q } ? Q : undefined>;
  body: Parsed<R extends { body: infer B } ? B : undefined>;
}

/**
 * A request's raw path parameters, query and body, parsed by its route's schemas: the only place
 * that turns outside input into the types the handlers see. A refusal is a MediaError.
 */
export function parseRouteInput<R extends ApiRoute>(
  route: R,
  raw: { params: Record<string, string | undefined>; query: Record<string, string | undefined>; body: unknown },
): RouteInput<R> {
  const params: Record<string, string> = {};
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const parameter = PATH_PARAMETERS[name as PathParameterName];
    const parsed = parameter.schema.safeParse(raw.params[name as string]);
    if (!parsed.success) throw parameter.refused?.(route.path) ?? fromZodError(parsed.error, name);
    params[name as string] = parsed.data;
  }
  const spec: ApiRouteSpec = route;
  const parse = (schema: z.ZodType | undefined, value: unknown, where: string) => {
    if (!schema) return undefined;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw fromZodError(parsed.error, where);
    return parsed.data;
  };
  return {
    params,
    query: parse(spec.query, raw.query, 'query'),
    body: parse(spec.body, raw.body, 'body'),
  } as RouteInput<R>;
}

const ROUTES_BY_KEY = new Map<string, ApiRoute>(API_ROUTES.map((route) => [`${route.method} ${route.path}`, route]));

/** The route an API Gateway route key (`GET /v1/media/{id}`) names. */
export const routeByKey = (routeKey: string): ApiRoute | undefined => ROUTES_BY_KEY.get(routeKey);

export const routeKeyOf = (route: Pick<ApiRouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;

const PATTERNS = API_ROUTES.map((route: ApiRoute) => ({
  route,
  regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
}));

/**
 * The route a raw method and path name, with its decoded path parameters: for callers that see
 * no route key (a Lambda function URL sends every request as `$default`).
 */
export function matchRoute(method: string, path: string): { route: ApiRoute; params: Record<string, string> } | undefined {
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

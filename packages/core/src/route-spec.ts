import type * as z from 'zod/mini';
import { MediaIdParam } from './contract';
import { notFound, type ErrorCode, type MediaError } from './errors';
import { JobIdParam, SubjectIdParam } from './rights';

/**
 * What a route of the HTTP API (docs/architecture.md § Contract) says: the function behind it and,
 * for the document, its schemas and the problem codes it can answer with. The routes themselves are
 * one table per function (upload-routes.ts, download-routes.ts, media-routes.ts), so a function's
 * bundle builds the schemas of its own routes only; api-routes.ts joins them into the one table of
 * the local HTTP server, the CDK HTTP API and the OpenAPI document, so none can drift from the others.
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
  query?: z.ZodMiniObject;
  body?: z.ZodMiniType;
  /** The success answer; no schema for an empty body. */
  answer: { status: 200 | 201 | 202 | 204; description: string; schema?: z.ZodMiniType };
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
  { schema: z.ZodMiniType<string>; description: string; refused: ((path: string) => MediaError) | undefined }
>;

// Every route with a token can be throttled: the caller's school over its rate (RATE_LIMITED, 429).
export const AUTH: readonly ErrorCode[] = ['UNAUTHENTICATED', 'RATE_LIMITED'];

import { $ZodError } from 'zod/v4/core';
import { ERRORS, MediaError, isMediaError, type ErrorCode } from './errors';

/** RFC 9457 problem details, with our stable `code` extension. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  issues?: { path: string; message: string }[];
}

export interface ProblemResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const PROBLEM_BASE = 'https://media.school.example/problems/';

/** Turns a zod failure into a 400 that says which field is wrong, without echoing values. */
export function fromZodError(error: $ZodError, where = 'body'): MediaError {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  const detail = first ? `${first.path}: ${first.message}` : `invalid ${where}`;
  return new MediaError('VALIDATION_FAILED', detail, { issues });
}

/**
 * PostgreSQL's answers that mean "too busy right now", not "wrong": a lock wait or statement over
 * its budget, a deadlock victim, too many connections, a failover in progress, the connection
 * terminated under the request (57P01: a restart, a failover, `pg_terminate_backend`). The
 * transaction was rolled back (or never committed), so nothing is half-written and the request can
 * be tried again.
 */
const OVERLOAD_SQLSTATES = new Set(['55P03', '57014', '40P01', '40001', '53300', '57P03', '57P01']);
/**
 * node-postgres gives up waiting for a free connection, or finds its connection cut while a query
 * was on it, with these messages.
 */
const POOL_TIMEOUT =
  /timeout exceeded when trying to connect|connection timeout|Connection terminated|connection error and is not queryable/i;
const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/** The socket to the database reset under a query (the server ended the connection as it was read). */
const CONNECTION_CUT = new Set(['ECONNRESET', 'EPIPE']);

export function isOverload(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? error.code : undefined;
  if (typeof code === 'string' && (OVERLOAD_SQLSTATES.has(code) || CONNECTION_CUT.has(code))) return true;
  return error instanceof Error && POOL_TIMEOUT.test(error.message);
}

/**
 * Anything that is not a MediaError is an internal error (its message never leaves the process),
 * except overload, which is a 503 with Retry-After: the one place database pressure is mapped.
 */
export function toMediaError(error: unknown): MediaError {
  if (isMediaError(error)) return error;
  if (error instanceof $ZodError) return fromZodError(error);
  if (isOverload(error)) {
    return new MediaError('SERVICE_UNAVAILABLE', 'The service is busy; try again shortly.', {
      retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
    });
  }
  return new MediaError('INTERNAL', INTERNAL_DETAIL);
}

/** All a caller learns of an internal error; the adapter logs the real one with the request id. */
const INTERNAL_DETAIL = 'An unexpected error occurred.';

export function problemOf(error: MediaError, instance?: string): Problem {
  const { status, title } = ERRORS[error.code];
  const problem: Problem = {
    type: PROBLEM_BASE + error.code.toLowerCase().replaceAll('_', '-'),
    title,
    status,
    // An internal error's own sentence names our keys, settings or data (a MediaError('INTERNAL', …)
    // thrown deep down, an invalid configuration at cold start): it stays in the log.
    detail: error.code === 'INTERNAL' ? INTERNAL_DETAIL : error.message,
    code: error.code,
  };
  if (instance) problem.instance = instance;
  if (error.extra.issues) problem.issues = error.extra.issues;
  return problem;
}

export function problemResponse(error: unknown, instance?: string): ProblemResponse {
  const mediaError = toMediaError(error);
  const problem = problemOf(mediaError, instance);
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  };
  if (mediaError.extra.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(mediaError.extra.retryAfterSeconds);
  }
  return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
}

import { ZodError } from 'zod';
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
export function fromZodError(error: ZodError, where = 'body'): MediaError {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  const detail = first ? `${first.path}: ${first.message}` : `invalid ${where}`;
  return new MediaError('VALIDATION_FAILED', detail, { issues });
}

/** Anything that is not a MediaError is an internal error: its message never leaves the process. */
export function toMediaError(error: unknown): MediaError {
  if (isMediaError(error)) return error;
  if (error instanceof ZodError) return fromZodError(error);
  return new MediaError('INTERNAL', 'An unexpected error occurred.');
}

export function problemOf(error: MediaError, instance?: string): Problem {
  const { status, title } = ERRORS[error.code];
  const problem: Problem = {
    type: PROBLEM_BASE + error.code.toLowerCase().replaceAll('_', '-'),
    title,
    status,
    detail: error.message,
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

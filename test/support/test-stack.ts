import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { MediaRecord } from '@media/core';
import { appDatabaseUrl } from './database';
import { mintDevToken, startLocalStack, type DevTokenClaims, type LocalStack, type LocalStackOptions } from '@media/local';

export interface TestStack extends Omit<LocalStack, 'queues'> {
  /** The stack's queues, and `events`: every full-audience event the topic carried (a test tap). */
  queues: LocalStack['queues'] & { events: string };
  dataDir: string;
  token(claims: DevTokenClaims): Promise<string>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    headers: Headers;
    json: T;
  }>;
  /** A plain multipart/form-data POST of the bytes to the presigned URL, straight to the S3 server. */
  postToS3(
    upload: { url: string; fields: Record<string, string> },
    bytes: Buffer,
    contentType: string,
    filename?: string,
  ): Promise<Response>;
  waitForStatus(id: string, token: string, statuses?: string[], timeoutMs?: number): Promise<MediaRecord>;
  close(): Promise<void>;
}

/**
 * Ceilings on a stack's start, not budgets: a start takes seconds, and these are far above what it
 * takes even on a shared two-core machine under load, so a slow machine makes a slow test, never a
 * failed one. They are there for a start that is stuck: it fails naming the phase it is stuck in,
 * rather than with a bare `Hook timed out` (each is below the hook timeout that holds it:
 * vitest.config.ts, or the test's own). The slow phases are made fast instead: the database is a
 * copy of the run's migrated template, and the synthesized bundles are built once per source
 * version. Parity mode's first start in a fresh clone runs `cdk synth` (minutes under load).
 */
export const STACK_START_CEILING_MS = { sources: 150_000, artifacts: 540_000 };

async function startWithinCeiling(options: LocalStackOptions, ceilingMs: number): Promise<LocalStack> {
  const began = Date.now();
  let phase = 'loading';
  let phaseBegan = began;
  const starting = startLocalStack({
    ...options,
    onPhase: (next) => {
      phase = next;
      phaseBegan = Date.now();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Whatever still comes up is stopped again: nothing is left listening after the failure.
      starting.then((late) => late.stop()).catch(() => {});
      const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
      reject(
        new Error(
          `local stack start: ${phase} took > ${s(Date.now() - phaseBegan)} (whole start > ${s(ceilingMs)}); the machine is too busy or that part is stuck`,
        ),
      );
    }, ceilingMs);
  });
  try {
    return await Promise.race([starting, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

const TEST_LOCK_TIMEOUT_MS = 15_000;
const TEST_UNTHROTTLED = 100_000;

/** The real local stack (S3 server, SQS server, event pump, HTTP API) on free ports and a temp dir. */
export async function startTestStack(
  options: Partial<LocalStackOptions> = {},
  { startCeilingMs }: { startCeilingMs?: number } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'media-stack-')));
  const databaseUrl = options.databaseUrl ?? (inject('databaseUrl') || undefined);
  // No scheduled sweeper by default: tests share one database, and a sweeper in every stack would
  // act on other tests' rows with its own bucket and queues. Tests of the sweeper run it themselves.
  // Rights jobs likewise wait in their queue unless a test asks for `runRightsJobs` (its own jobs only).
  const ceilingMs = startCeilingMs ?? (options.artifacts ? STACK_START_CEILING_MS.artifacts : STACK_START_CEILING_MS.sources);
  // Parity mode's bundles sign in as the functions do in AWS: the DML-only app role.
  const appUrl = options.artifacts && databaseUrl ? appDatabaseUrl(databaseUrl) : undefined;
  // The lock timeout is an overload guard with tests of its own (test/scale). Elsewhere it must not
  // fire because a shared two-core machine left the backend holding a school's counter row
  // unscheduled for a couple of seconds: that is a slow test, not a failed one.
  // The request throttles likewise have their own tests (test/access/throttles.test.ts); elsewhere a
  // test's hundreds of requests a second for one school are its own pace, not a school's abuse.
  const env = {
    MEDIA_DB_LOCK_TIMEOUT_MS: String(TEST_LOCK_TIMEOUT_MS),
    MEDIA_SCHOOL_REQUESTS_PER_SECOND: String(TEST_UNTHROTTLED),
    MEDIA_SCHOOL_REQUEST_BURST: String(TEST_UNTHROTTLED),
    MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: String(TEST_UNTHROTTLED),
    MEDIA_UNAUTHENTICATED_REQUEST_BURST: String(TEST_UNTHROTTLED),
    ...options.env,
  };
  const stack = await startWithinCeiling(
    {
      port: 0,
      s3Port: 0,
      sqsPort: 0,
      sweepEverySeconds: 0,
      runRightsJobs: false,
      // No face stage unless a test asks: the pipeline's tests would detect faces on every photo.
      faces: false,
      tapEvents: true,
      appDatabaseUrl: appUrl,
      ...options,
      env,
      dataDir,
      databaseUrl,
    },
    ceilingMs,
  );
  const events = stack.queues.eventsTap;
  if (!events) throw new Error('the test stack taps the events topic');

  const api = async <T>(
    method: string,
    path: string,
    { token, body, headers }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(stack.apiUrl + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    // The caller names the answer it expects for the route (the contract's types).
    return { status: res.status, headers: res.headers, json: json as T };
  };

  return {
    ...stack,
    queues: { ...stack.queues, events },
    dataDir,
    token: (claims) => mintDevToken(claims),
    api,
    async postToS3(upload, bytes, contentType, filename = 'photo') {
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
      form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), filename);
      return fetch(upload.url, { method: 'POST', body: form });
    },
    async waitForStatus(id, token, statuses = ['ready', 'rejected'], timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { json } = await api<MediaRecord | undefined>('GET', `/v1/media/${id}`, { token });
        if (json && statuses.includes(json.status)) return json;
        if (Date.now() > deadline) throw new Error(`media ${id} still ${json?.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await stack.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

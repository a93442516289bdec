import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMediaClient } from '@media/client';
import { REPO_ROOT } from './repo';

export interface SmokeOptions {
  /** The deployed API's base URL (the stack's ApiUrl output). */
  apiUrl: string;
  /** A bearer token from the identity provider: a teacher or admin of a school kept for checks. */
  token: string;
  /** How long processing may take, cold starts included. Default 120 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SmokeStep {
  step: string;
  ms: number;
  detail: string;
}

/** A small real JPEG (640×480) shipped with the project, so the check needs no image tools. */
export const SMOKE_PHOTO = join(REPO_ROOT, 'infra', 'smoke', 'smoke-photo.jpg');

/**
 * What an operator runs after the first deploy: the whole path a user takes, against the real
 * API, storage, queue, processor and database. Health, an upload straight to S3, processing to
 * ready, a derivative served through a presigned URL, and the delete that leaves nothing behind.
 * Throws at the first step that does not do what it should, naming it.
 */
export async function smokeCheck(options: SmokeOptions): Promise<SmokeStep[]> {
  const steps: SmokeStep[] = [];
  const baseUrl = options.apiUrl.replace(/\/+$/, '');
  const step = async <T>(name: string, work: () => Promise<T>, detail: (result: T) => string): Promise<T> => {
    const started = performance.now();
    let result: T;
    try {
      result = await work();
    } catch (error) {
      throw new Error(`smoke check failed at "${name}": ${(error as Error).message}`);
    }
    const done = { step: name, ms: Math.round(performance.now() - started), detail: detail(result) };
    steps.push(done);
    options.log?.(`ok  ${done.step.padEnd(22)} ${String(done.ms).padStart(6)} ms  ${done.detail}`);
    return result;
  };

  await step(
    'health',
    async () => {
      const res = await fetch(`${baseUrl}/health`);
      if (res.status !== 200) throw new Error(`GET /health answered ${res.status}`);
      return res.status;
    },
    () => 'GET /health → 200',
  );

  const client = createMediaClient({ baseUrl, token: options.token });
  const photo = readFileSync(SMOKE_PHOTO);
  const uploaded = await step(
    'upload to storage',
    () => client.upload(new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), { purpose: 'general', filename: 'smoke-check.jpg' }),
    (u) => `media ${u.mediaId}, ${u.size} bytes posted to S3`,
  );
  try {
    const ready = await step(
      'processed',
      () => client.waitUntilReady(uploaded.mediaId, { timeoutMs: options.timeoutMs ?? 120_000 }),
      (record) => `${record.status}, ${record.width}×${record.height}, variants ${record.variants.map((v) => v.name).join(' ')}`,
    );
    if (ready.status !== 'ready') throw new Error(`smoke check failed at "processed": the photo ended ${ready.status}`);
    await step(
      'derivative served',
      async () => {
        const { url } = await client.downloadUrl(uploaded.mediaId, 'small');
        const res = await fetch(url);
        if (res.status !== 200) throw new Error(`the presigned GET answered ${res.status}`);
        return { type: res.headers.get('content-type'), bytes: (await res.arrayBuffer()).byteLength };
      },
      (got) => `small: ${got.type}, ${got.bytes} bytes`,
    );
  } finally {
    await step(
      'deleted',
      () => client.delete(uploaded.mediaId),
      () => 'DELETE → 204',
    );
  }
  return steps;
}

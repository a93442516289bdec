import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaClient, type UploadProgress } from '@media/client';
import { ResumeJournal, uploadFile } from '@media/client/node';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const THRESHOLD = 6 * MiB;

/**
 * @media/client and the CLI's file upload go in parts by themselves above the threshold, report
 * byte progress, and finish an upload an earlier run left half-way from the parts storage holds.
 */
describe('@media/client multipart uploads', () => {
  let stack: TestStack;
  let dir: string;
  let video: string;
  let size: number;
  let token: string;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { MEDIA_MULTIPART_THRESHOLD_BYTES: String(THRESHOLD), MEDIA_MULTIPART_PART_BYTES: String(5 * MiB) },
    });
    dir = await mkdtemp(join(tmpdir(), 'media-client-multipart-'));
    // Noise, losslessly coded: about 22 MB of H.264, five parts.
    video = join(dir, 'assembly.mp4');
    await exec('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-s',
      '640x360',
      '-r',
      '25',
      '-i',
      '/dev/urandom',
      '-t',
      '1.6',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-qp',
      '0',
      video,
    ]);
    size = (await stat(video)).size;
    token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A client whose PUTs to storage are counted, and which can be made to stop after some parts. */
  const countingClient = (stopAfterParts = Infinity) => {
    const puts: number[] = [];
    const controller = new AbortController();
    const client = createMediaClient({
      baseUrl: stack.apiUrl,
      token,
      multipartThresholdBytes: THRESHOLD,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        if (init?.method === 'PUT') {
          puts.push(Number(url.searchParams.get('partNumber')));
          const answer = await fetch(input, init);
          if (puts.length >= stopAfterParts) controller.abort(new Error('the connection dropped'));
          return answer;
        }
        return fetch(input, init);
      },
    });
    return { client, puts, signal: controller.signal };
  };

  it('sends a file above the threshold in parts, with byte progress, and it ends ready', async () => {
    const { client, puts } = countingClient();
    const progress: UploadProgress[] = [];
    let started: string | undefined;
    const uploaded = await uploadFile(
      client,
      video,
      { purpose: 'general' },
      { onProgress: (p) => progress.push(p), onMultipartStarted: (id) => (started = id) },
    );
    expect(started).toBe(uploaded.mediaId);
    expect(puts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5].slice(0, Math.ceil(size / (5 * MiB))));
    expect(progress.at(-1)).toEqual({ loaded: size, total: size, fraction: 1 });
    expect(progress.map((p) => p.loaded)).toEqual([...progress.map((p) => p.loaded)].sort((a, b) => a - b));
    const record = await client.waitUntilReady(uploaded.mediaId, { timeoutMs: 60_000 });
    expect(record).toMatchObject({ status: 'ready', kind: 'video', size: expect.any(Number) });
  });

  it('goes in parts when the service says its threshold is lower than the client was told', async () => {
    const client = createMediaClient({ baseUrl: stack.apiUrl, token, multipartThresholdBytes: 1024 ** 3 });
    let started: string | undefined;
    const uploaded = await uploadFile(client, video, { purpose: 'general' }, { onMultipartStarted: (id) => (started = id) });
    expect(started).toBe(uploaded.mediaId);
    expect((await client.waitUntilReady(uploaded.mediaId, { timeoutMs: 60_000 })).status).toBe('ready');
  });

  it('resumes a run stopped half-way: only the missing parts are sent, and the file ends ready', async () => {
    const journal = new ResumeJournal(join(dir, 'journal.json'));
    const first = countingClient(2);
    const stopped = await uploadFile(first.client, video, { purpose: 'general' }, { signal: first.signal }, journal).catch(
      (error: unknown) => error,
    );
    expect(stopped).toBeInstanceOf(Error);
    const unfinished = await journal.get(ResumeJournal.keyOf({ path: video, size, mtimeMs: (await stat(video)).mtimeMs }));
    expect(unfinished, 'the journal remembers the upload').toBeDefined();

    const second = countingClient();
    const progress: UploadProgress[] = [];
    const resumed = await uploadFile(second.client, video, { purpose: 'general' }, { onProgress: (p) => progress.push(p) }, journal);
    expect(resumed.mediaId).toBe(unfinished);
    expect(second.puts.length, 'the parts storage held were not sent again').toBeLessThan(Math.ceil(size / (5 * MiB)));
    expect(progress[0]!.loaded, 'progress starts from what storage holds').toBeGreaterThan(0);
    expect((await second.client.waitUntilReady(resumed.mediaId, { timeoutMs: 60_000 })).status).toBe('ready');
  });
});

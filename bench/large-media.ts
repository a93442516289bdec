import { execFile, execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { createMediaClient } from '@media/client';
import { uploadFile } from '@media/client/node';
import { mintDevToken, startLocalStack } from '@media/local';

/**
 * npm run bench:large [-- --upload-mb 1024 --clip-mb 500]
 *
 * Large media on the local stack (s3rver, the processor in this process): a file of --upload-mb
 * sent in parts by @media/client (MB/s, and the share of the time spent in the service's own
 * calls: start, sign parts, complete), then a lossless noise clip of about --clip-mb through the
 * video processor (time from completion to ready, and peak memory of this process and of ffmpeg,
 * sampled every 50 ms). On DATABASE_URL if set, else PGlite.
 */
const { values } = parseArgs({
  options: { 'upload-mb': { type: 'string', default: '1024' }, 'clip-mb': { type: 'string', default: '500' } },
});
const MB = 1000 * 1000;
const exec = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'media-bench-large-'));
const secret = 'bench-secret-bench-secret';
const stack = await startLocalStack({
  dataDir: join(dir, 'stack'),
  port: 0,
  s3Port: 0,
  sqsPort: 0,
  databaseUrl: process.env.DATABASE_URL,
  jwtSecret: secret,
  sweepEverySeconds: 0,
});
const token = await mintDevToken({ role: 'admin', tenant: 'bench-large', sub: 'bench-admin' }, secret);

/** Times the service's own calls (everything but the PUTs of parts to storage), by kind. */
let serviceMs = 0;
const callMs: Record<string, number> = {};
const kindOf = (url: string, method: string) =>
  url.endsWith('/complete')
    ? 'complete'
    : url.endsWith('/parts')
      ? 'sign parts'
      : url.endsWith('/v1/uploads') && method === 'POST'
        ? 'start'
        : 'other';
const client = createMediaClient({
  baseUrl: stack.apiUrl,
  token,
  fetch: async (input, init) => {
    if (init?.method === 'PUT') return fetch(input, init);
    const started = performance.now();
    try {
      return await fetch(input, init);
    } finally {
      const ms = performance.now() - started;
      serviceMs += ms;
      const kind = kindOf(String(input), init?.method ?? 'GET');
      callMs[kind] = (callMs[kind] ?? 0) + ms;
    }
  },
});

try {
  // 1. Upload throughput.
  const uploadBytes = Number(values['upload-mb']) * MB;
  const big = join(dir, 'big.mp4');
  const handle = await open(big, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < uploadBytes; written += chunk.length) {
    randomFillSync(chunk);
    await handle.write(chunk, 0, Math.min(chunk.length, uploadBytes - written));
  }
  await handle.close();
  serviceMs = 0;
  for (const kind of Object.keys(callMs)) delete callMs[kind];
  const began = performance.now();
  await uploadFile(client, big, { purpose: 'general', contentType: 'video/mp4' });
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `upload: ${(uploadBytes / MB).toFixed(0)} MB in parts in ${seconds.toFixed(1)} s = ${(uploadBytes / MB / seconds).toFixed(0)} MB/s; ` +
      `the service's calls ${(serviceMs / 1000).toFixed(2)} s (${((serviceMs / 1000 / seconds) * 100).toFixed(1)} % of the time; ` +
      `${Object.entries(callMs)
        .map(([kind, ms]) => `${kind} ${(ms / 1000).toFixed(2)} s`)
        .join(', ')}; the parts go four at a time, so calls overlap PUTs)`,
  );
  await rm(big);

  // 2. The processor on a clip: lossless noise at 1280 × 720 is about 55 MB a second.
  const clip = join(dir, 'clip.mp4');
  const clipSeconds = Math.max(1, Math.round(Number(values['clip-mb']) / 55));
  await exec('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-s',
    '1280x720',
    '-r',
    '25',
    '-i',
    '/dev/urandom',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(clipSeconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-qp',
    '0',
    '-c:a',
    'aac',
    clip,
  ]);
  const clipSize = (await stat(clip)).size;
  const uploaded = await uploadFile(client, clip, { purpose: 'general' });
  const completedAt = performance.now();
  let peakNode = 0;
  let peakTools = 0;
  const sampler = setInterval(() => {
    peakNode = Math.max(peakNode, process.memoryUsage().rss);
    try {
      const rss = execFileSync('ps', ['-o', 'rss=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .map(Number)
        .filter((n) => n > 0);
      peakTools = Math.max(peakTools, rss.reduce((a, b) => a + b, 0) * 1024);
    } catch {
      // no children at this instant
    }
  }, 50);
  const record = await client.waitUntilReady(uploaded.mediaId, { timeoutMs: 600_000 });
  clearInterval(sampler);
  console.log(
    `processor: ${(clipSize / MB).toFixed(0)} MB clip (${clipSeconds} s, 1280×720) ${record.status} in ${((performance.now() - completedAt) / 1000).toFixed(1)} s ` +
      `after completion; peak RSS: this process ${(peakNode / MB).toFixed(0)} MB, its ffmpeg/ffprobe children ${(peakTools / MB).toFixed(0)} MB`,
  );
} finally {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}

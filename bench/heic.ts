/**
 * The HEIC part of `npm run bench`: a 12 MP iPhone-sized HEIC (4032×3024, Display P3, made once
 * with `heif-enc` and kept in the temporary folder) from upload to ready on the local stack,
 * against what cannot be avoided: the WASM decode plus the same derivatives done directly
 * (sharp from the decoded pixels, one resize to the largest variant, every variant encoded on
 * all cores, longest first). One run of each, each in its own child process. Target: ≤ 1.15.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { PURPOSE_POLICIES } from '@media/core';
import { processImage } from '@media/imaging';
import { variantGeometry } from '../packages/imaging/src/derivatives';
import { ENCODERS } from '../packages/imaging/src/encoders';
import { runLongestFirst } from '../packages/imaging/src/work-queue';
import { photoLike } from './inputs';

const exec = promisify(execFile);
const SPECS = PURPOSE_POLICIES.attendance.derivatives;
const MODES = ['upload-to-ready', 'engine', 'direct'] as const;
type Mode = (typeof MODES)[number];
interface Measurement {
  ms: number;
  maxRssMb: number;
}

const inputDir = join(tmpdir(), 'media-bench-inputs-v1');
const input = join(inputDir, 'iphone-12mp.heic');

async function makeInput(): Promise<void> {
  if (existsSync(input)) return;
  await mkdir(inputDir, { recursive: true });
  const { data, info } = await photoLike(4032, 3024);
  const jpeg = join(inputDir, 'iphone-12mp-source.jpg');
  await writeFile(
    jpeg,
    await sharp(data, { raw: info })
      .withIccProfile('p3')
      .withExif({ IFD0: { Make: 'Apple', Model: 'iPhone' } })
      .jpeg({ quality: 95 })
      .toBuffer(),
  );
  // heif-enc (Debian's libheif-examples) at the quality of an iPhone's files (~2–3 MB at 12 MP).
  await exec('heif-enc', ['-q', '60', '-o', input, jpeg]);
  await rm(jpeg);
}

async function measure(mode: Mode, heic: Buffer): Promise<Measurement> {
  // libvips' threads and modules start on first use: not part of any mode's cost. The WASM
  // decoder's compile is, in every mode alike: each runs in a fresh process.
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
    .webp()
    .toBuffer();
  const started = performance.now();
  if (mode === 'engine') {
    await processImage(heic, { declaredType: 'image/heic', allowedTypes: ['image/heic'], derivatives: SPECS });
  } else if (mode === 'direct') {
    await direct(heic);
  } else {
    return uploadToReady(heic);
  }
  return { ms: performance.now() - started, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** The decode, then the same variants straight from its pixels: no inspection, no hashes, no clean original. */
async function direct(heic: Buffer): Promise<void> {
  const decode = (await import('heic-decode')).default;
  const { width, height, data } = await decode({ buffer: heic });
  const largest = Math.max(...SPECS.filter((s) => s.fit === 'inside').map((s) => s.size));
  const base = await sharp(data, { raw: { width, height, channels: 4 } })
    .removeAlpha()
    .resize({ width: largest, height: largest, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { width: base.info.width, height: base.info.height, channels: base.info.channels };
  await runLongestFirst(
    SPECS.map((spec) => ({
      cost: spec.size * spec.size * (spec.format === 'jpeg' ? 0.15 : 1),
      run: () => ENCODERS[spec.format](variantGeometry(sharp(base.data, { raw }), spec)).toBuffer(),
    })),
    availableParallelism(),
  );
}

/** On the local stack (s3rver, the event pump, the processor in this process; PGlite unless DATABASE_URL): POST to the record saying ready. */
async function uploadToReady(heic: Buffer): Promise<Measurement> {
  const { createMediaClient } = await import('@media/client');
  const { mintDevToken, startLocalStack } = await import('@media/local');
  const dir = await mkdtemp(join(tmpdir(), 'media-bench-heic-'));
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
  try {
    const token = await mintDevToken({ role: 'teacher', tenant: 'bench-heic', sub: 'bench-teacher', classrooms: ['c-1'] }, secret);
    const client = createMediaClient({ baseUrl: stack.apiUrl, token });
    // A warm-up upload, so the stack's first requests (JIT, connections) are not the HEIC's.
    const warm = await client.upload(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
        .jpeg()
        .toBuffer(),
      { purpose: 'general', contentType: 'image/jpeg' },
    );
    await client.waitUntilReady(warm.mediaId);
    const started = performance.now();
    const { mediaId } = await client.upload(heic, {
      purpose: 'attendance',
      classroomId: 'c-1',
      contentType: 'image/heic',
      filename: 'IMG_0001.HEIC',
    });
    // Polled every 25 ms rather than with the client's backoff, which would add up to 2 s of waiting.
    for (;;) {
      const record = await client.get(mediaId);
      if (record.status === 'ready') break;
      if (record.status !== 'pending' && record.status !== 'processing')
        throw new Error(`the HEIC ended ${record.status}: ${JSON.stringify(record.rejection)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return { ms: performance.now() - started, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function runChild(mode: Mode): Measurement {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, '--heic-child', mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: process.env,
  });
  if (result.status !== 0) throw new Error(`${mode} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measurement;
}

const child = process.argv.indexOf('--heic-child');
if (child !== -1) {
  const mode = process.argv[child + 1] as Mode;
  process.stdout.write(`\n${JSON.stringify(await measure(mode, await readFile(input)))}\n`);
  process.exit(0);
} else {
  await makeInput();
  const bytes = (await readFile(input)).length;
  const runs = Object.fromEntries(MODES.map((mode) => [mode, runChild(mode)])) as Record<Mode, Measurement>;
  const fmt = (m: Measurement) => `${m.ms.toFixed(0).padStart(5)} ms  peak RSS ${m.maxRssMb.toFixed(0)} MB`;
  console.log(`12 MP HEIC (4032×3024, HEVC, Display P3), ${(bytes / 1e6).toFixed(1)} MB, one run each`);
  console.log(`  upload → ready   ${fmt(runs['upload-to-ready'])}  (local stack, the whole process)`);
  console.log(`  engine           ${fmt(runs.engine)}`);
  console.log(`  direct           ${fmt(runs.direct)}  (WASM decode + the same variants from its pixels)`);
  console.log(`  upload → ready / direct  ${(runs['upload-to-ready'].ms / runs.direct.ms).toFixed(2)}  target ≤ 1.15`);
  console.log(`  engine / direct          ${(runs.engine.ms / runs.direct.ms).toFixed(2)}\n`);
}

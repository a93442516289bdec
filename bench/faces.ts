/**
 * The face stage in `npm run bench` (`--faces` for it alone): detection and alignment of a 12 MP
 * photo as the stage does them (a 1280 px upright copy for the detector, the full upright
 * image decoded meanwhile, one aligned crop per face from it) against the bare library on the same image (sharp's
 * shrink-on-load to the same 1280 px, then face-api's detection and landmarks: no crop). Warm
 * runs, interleaved, median of five each; then the stage's cold start (import, WASM backend,
 * both networks, the first photo) in a fresh process. The photo is a demo photo of the installed
 * model package scaled to 4032×3024, made at run time (never committed). Target: ratio ≤ 1.2.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import {
  alignFace,
  DEFAULT_DETECTION,
  decodeUpright,
  decodeUprightWithin,
  detectFaces,
  installedModelFiles,
  loadFaceModel,
  runDetector,
} from '@media/faces';
import { demoPhoto } from '../packages/faces/test/demo-photos';

const files = installedModelFiles();

async function twelveMegapixels(): Promise<Buffer> {
  return sharp(demoPhoto('sample5.jpg')).resize(4032, 3024, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
}

async function stage(jpeg: Buffer): Promise<number> {
  // As packages/service/src/face-stage.ts does it: the full decode overlaps detection.
  const full = decodeUpright(jpeg, 100_000_000);
  const small = await decodeUprightWithin(jpeg, DEFAULT_DETECTION.detectionSide, 100_000_000);
  const faces = await detectFaces(small, files, DEFAULT_DETECTION);
  const image = await full;
  for (const face of faces) {
    await alignFace(
      image,
      face.landmarks.map((p) => ({ x: p.x * image.width, y: p.y * image.height })),
      112,
    );
  }
  return faces.length;
}

async function bare(jpeg: Buffer): Promise<number> {
  const faceapi = await loadFaceModel(files);
  const { data, info } = await sharp(jpeg)
    .rotate()
    .resize(DEFAULT_DETECTION.detectionSide, DEFAULT_DETECTION.detectionSide, { fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const found = await runDetector(faceapi, { data, width: info.width, height: info.height, channels: 3 }, DEFAULT_DETECTION);
  return found.length;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function timed(run: () => Promise<number>): Promise<{ ms: number; faces: number }> {
  const started = performance.now();
  const faces = await run();
  return { ms: performance.now() - started, faces };
}

if (process.argv.includes('--faces-cold')) {
  // The child: from a fresh process to the first photo's faces.
  const started = performance.now();
  const jpeg = await twelveMegapixels();
  const made = performance.now();
  const faces = await stage(jpeg);
  console.log(JSON.stringify({ coldMs: Math.round(performance.now() - made), makeMs: Math.round(made - started), faces }));
} else {
  const jpeg = await twelveMegapixels();
  await loadFaceModel(files);
  await stage(jpeg);
  await bare(jpeg);
  const stageMs: number[] = [];
  const bareMs: number[] = [];
  let faces = 0;
  for (let n = 0; n < 5; n++) {
    const s = await timed(() => stage(jpeg));
    const b = await timed(() => bare(jpeg));
    stageMs.push(s.ms);
    bareMs.push(b.ms);
    faces = s.faces;
  }
  const ratio = median(stageMs) / median(bareMs);
  const child = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--faces-cold'], { encoding: 'utf8' });
  const cold = JSON.parse(child.trim().split('\n').pop() ?? '{}') as { coldMs: number };
  console.log(
    JSON.stringify({
      bench: 'faces',
      photo: '4032x3024',
      faces,
      stageMs: Math.round(median(stageMs)),
      bareLibraryMs: Math.round(median(bareMs)),
      ratio: Number(ratio.toFixed(2)),
      target: 1.2,
      met: ratio <= 1.2,
      coldStartMs: cold.coldMs,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

/**
 * `npx tsx bench/encoders.ts`: the measurements behind the encoder settings in
 * packages/imaging/src/encoders.ts. For a photo-like frame and for noise (every encoder's worst
 * case) at the `large` size, and for the photo at the `small` size: each WebP and AVIF effort's
 * time (best of two), bytes, and PSNR against the pixels it was given.
 */
import sharp, { type Sharp } from 'sharp';
import { photoLike } from './inputs';

interface Frame {
  label: string;
  data: Buffer;
  raw: { width: number; height: number; channels: 3 };
}

async function frame(label: string, source: Sharp, size: number): Promise<Frame> {
  const { data, info } = await source
    .resize({ width: size, height: size, fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { label, data, raw: { width: info.width, height: info.height, channels: 3 } };
}

async function psnr(encoded: Buffer, reference: Frame): Promise<number> {
  const decoded = await sharp(encoded).removeAlpha().raw().toBuffer();
  let squared = 0;
  for (let i = 0; i < decoded.length; i++) squared += (decoded[i]! - reference.data[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (squared / decoded.length));
}

async function measure(reference: Frame, format: string, encode: (image: Sharp) => Sharp, tries = 2) {
  let best = Infinity;
  let out = Buffer.alloc(0);
  for (let i = 0; i < tries; i++) {
    const started = performance.now();
    out = await encode(sharp(reference.data, { raw: reference.raw })).toBuffer();
    best = Math.min(best, performance.now() - started);
  }
  console.log(
    `  ${format.padEnd(20)} ${best.toFixed(0).padStart(6)} ms ${(out.length / 1024).toFixed(0).padStart(6)} KiB  ${(await psnr(out, reference)).toFixed(2)} dB`,
  );
}

const photo = await photoLike(4000, 3000);
const photoImage = () => sharp(photo.data, { raw: photo.info });
const noise = sharp({
  create: { width: 2048, height: 1536, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } },
});
const frames = [
  await frame('photo-like, large (2048 px)', photoImage(), 2048),
  await frame('noise, large (2048 px)', noise, 2048),
  await frame('photo-like, small (480 px)', photoImage(), 480),
];

console.log(
  `libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp}, aom ${sharp.versions.aom}; threads per image ${sharp.concurrency()}\n`,
);
for (const reference of frames) {
  const isNoise = reference.label.startsWith('noise');
  console.log(`${reference.label}, ${reference.raw.width}×${reference.raw.height}`);
  for (const effort of [0, 2, 3, 4, 6]) await measure(reference, `webp q80 effort ${effort}`, (i) => i.webp({ quality: 80, effort }));
  // AVIF's default effort (4) on noise takes tens of seconds: measured once, not twice.
  for (const effort of [0, 2, 3, 4])
    await measure(reference, `avif q50 effort ${effort}`, (i) => i.avif({ quality: 50, effort }), isNoise && effort >= 4 ? 1 : 2);
  await measure(reference, 'jpeg q90 4:4:4', (i) => i.jpeg({ quality: 90, chromaSubsampling: '4:4:4' }));
  console.log();
}

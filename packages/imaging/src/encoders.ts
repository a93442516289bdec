import type { Sharp } from 'sharp';
import type { DerivativeFormat } from '@media/core';

/**
 * Encoder settings, chosen by measurement (`npx tsx bench/encoders.ts`; figures in docs/imaging.md).
 * - WebP q80 effort 4: effort 3 gives the same bytes, 5–6 cost 1.5–3× the time for ≤ 1 % fewer
 *   bytes; effort 2 is twice as fast but costs 4 % more bytes on photos and 50 % more on noise,
 *   0 costs 12 % more. A derivative is encoded once and downloaded many times: bytes win.
 * - AVIF q50 effort 0: a third fewer bytes than WebP q80 at 2048 px, half at 480 px, at WebP's
 *   time or less. Efforts 2–3 take 3–30× longer for 0–25 % fewer bytes, and the default (4)
 *   took 10 s on the photo and 107 s on noise at 2048 px: never within the processor's budget.
 * - JPEG (the `ml` variant) q90, 4:4:4 chroma, baseline libjpeg-turbo: what the recognition model
 *   is fed; mozjpeg would save bytes nobody downloads at about 3× the time.
 */
export const ENCODERS: Record<DerivativeFormat, (image: Sharp) => Sharp> = {
  webp: (image) => image.webp({ quality: 80, effort: 4 }),
  avif: (image) => image.avif({ quality: 50, effort: 0 }),
  jpeg: (image) => image.jpeg({ quality: 90, chromaSubsampling: '4:4:4', mozjpeg: false }),
};

/** Relative encode time per output pixel, measured; orders the work so the longest starts first. */
export const ENCODE_COST: Record<DerivativeFormat, number> = { webp: 1, avif: 1, jpeg: 0.15 };

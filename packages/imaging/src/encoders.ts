import type { Sharp } from 'sharp';
import type { DerivativeFormat } from '@media/core';

/**
 * Encoder settings, chosen by measurement (`npm run bench:encoders`, figures in docs/imaging.md).
 * - WebP q80 effort 4: effort 5–6 cost 1.5–3× the time for ≤ 2 % fewer bytes; effort 0–2 save
 *   up to 60 % of the time but cost 5–15 % more bytes on every view. Derivatives are encoded once
 *   and fetched many times, so bytes win at that price.
 * - AVIF q50 effort 3: about half the bytes of WebP at equal quality; effort 4 (the default)
 *   costs 3–5× more for 2 % fewer bytes. Still several times WebP's time, so a purpose asks for
 *   it only at sizes where that fits the processor's budget.
 * - JPEG (the `ml` variant) q90, 4:4:4 chroma, baseline libjpeg-turbo: what the recognition model
 *   is fed; mozjpeg would save bytes nobody downloads at 3× the time.
 */
export const ENCODERS: Record<DerivativeFormat, (image: Sharp) => Sharp> = {
  webp: (image) => image.webp({ quality: 80, effort: 4 }),
  avif: (image) => image.avif({ quality: 50, effort: 3 }),
  jpeg: (image) => image.jpeg({ quality: 90, chromaSubsampling: '4:4:4', mozjpeg: false }),
};

/** Relative encode time per output pixel, measured; orders the work so the longest starts first. */
export const ENCODE_COST: Record<DerivativeFormat, number> = { webp: 1, avif: 5, jpeg: 0.15 };

/**
 * Multi-index hashing for the near-duplicate search. The 64-bit perceptual hash is stored as four
 * 16-bit bands, each in an indexed column (`phash_band0..3`, computed by the database from
 * `phash`). If two hashes differ in at most `d` bits, by pigeonhole one of the four bands differs
 * in at most ⌊d / 4⌋ bits; so probing every band for the values within that many bits of the
 * reference's band finds every hash within `d` (no false negatives), and the exact Hamming check
 * then drops the false positives. For today's distance of 6 that is 1 + 16 values per band.
 */
export const BAND_COUNT = 4;
const BAND_BITS = 16;

/** The band values of a 16-hex-digit hash, first band = first four digits; null if malformed. */
export function hashBands(phash: string): number[] | null {
  if (!/^[0-9a-f]{16}$/i.test(phash)) return null;
  return Array.from({ length: BAND_COUNT }, (_, n) => parseInt(phash.slice(n * 4, n * 4 + 4), 16));
}

/** Per band, every value within ⌊maxDistance / 4⌋ bits of the reference's band. */
export function nearHashBands(phash: string, maxDistance: number): number[][] | null {
  const bands = hashBands(phash);
  if (!bands) return null;
  const radius = Math.floor(Math.max(0, maxDistance) / BAND_COUNT);
  return bands.map((band) => withinBits(band, radius));
}

function withinBits(value: number, radius: number): number[] {
  const found = new Set<number>([value]);
  let frontier = [value];
  for (let step = 0; step < radius; step++) {
    const next: number[] = [];
    for (const v of frontier) {
      for (let bit = 0; bit < BAND_BITS; bit++) {
        const flipped = v ^ (1 << bit);
        if (!found.has(flipped)) {
          found.add(flipped);
          next.push(flipped);
        }
      }
    }
    frontier = next;
  }
  return [...found].sort((a, b) => a - b);
}

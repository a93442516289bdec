import { createHash } from 'node:crypto';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * 64-bit difference hash from a 9×8 greyscale image: bit i is set when a pixel is brighter than
 * its right neighbour. Near-identical photos (re-encoded, resized) differ in a few bits.
 */
export function differenceHash(grey9x8: Uint8Array): string {
  if (grey9x8.length !== 72) throw new Error('differenceHash needs 9×8 greyscale pixels');
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const left = grey9x8[y * 9 + x]!;
      const right = grey9x8[y * 9 + x + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}

export function hammingDistance(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  while (x > 0n) {
    count += Number(x & 1n);
    x >>= 1n;
  }
  return count;
}

import sharp, { type Sharp } from 'sharp';

/** Decoded 8-bit pixels held in memory, upright, sRGB. */
export interface Pixels {
  data: Buffer;
  raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

export const fromPixels = (pixels: Pixels): Sharp => sharp(pixels.data, { raw: pixels.raw });

export async function toPixels(image: Sharp): Promise<Pixels> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, raw: { width: info.width, height: info.height, channels: info.channels } };
}

interface Rung {
  longest: number;
  shortest: number;
  pixels: Promise<Pixels>;
}

/**
 * The decoded image at every `inside` size a purpose asks for, each rung resized from the next
 * larger one: the 640 px variant reads the 1280 px pixels, not the 2048 px base, so the resizes
 * together read little more than the base once. Rungs are made as soon as the ladder is built,
 * one after another, while the encoders work on the rungs already there.
 */
export class PixelLadder {
  private readonly rungs: Rung[];

  constructor(base: Pixels, sizes: readonly number[]) {
    const longest = Math.max(base.raw.width, base.raw.height);
    const shortest = Math.min(base.raw.width, base.raw.height);
    this.rungs = [{ longest, shortest, pixels: Promise.resolve(base) }];
    for (const size of [...new Set(sizes)].sort((a, b) => b - a)) {
      const above = this.rungs.at(-1)!;
      if (size >= above.longest) continue;
      const pixels = above.pixels.then((larger) => toPixels(fromPixels(larger).resize({ width: size, height: size, fit: 'inside' })));
      pixels.catch(() => undefined); // awaited by whoever uses this rung; never an unhandled rejection
      this.rungs.push({ longest: size, shortest: Math.floor((shortest * size) / longest), pixels });
    }
  }

  /** The smallest rung whose longest side is at least `size`: exactly `size` where one was asked for. */
  fitting(size: number): Promise<Pixels> {
    return [...this.rungs].reverse().find((r) => r.longest >= size)?.pixels ?? this.rungs[0]!.pixels;
  }

  /** The smallest rung whose shorter side is at least `side`, for a square crop or a hash. */
  covering(side: number): Promise<Pixels> {
    return [...this.rungs].reverse().find((r) => r.shortest >= side)?.pixels ?? this.rungs[0]!.pixels;
  }
}

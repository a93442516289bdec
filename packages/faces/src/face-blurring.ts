import type { DetectedFace } from './face-detection';
import { type RawImage, rawSharp, toRaw } from './raw-image';

/** How far beyond the detector's box the blur reaches: the box is tight on the face, hair and chin are not in it. */
const BLUR_REACH = { width: 1.6, height: 1.8 };

/** Cells across a face once it is pixelated: too few for any feature to survive. */
const CELLS_ACROSS = 6;

/**
 * The upright image with every detected face made unrecognisable: each enlarged box is pixelated to a
 * few cells and then blurred, so neither a person nor the detector finds a face in it.
 */
export async function blurFaces(image: RawImage, faces: readonly Pick<DetectedFace, 'box'>[]): Promise<RawImage> {
  if (faces.length === 0) return image;
  const patches = await Promise.all(faces.map((face) => blurredPatch(image, face.box)));
  const found = patches.filter((p): p is NonNullable<typeof p> => p !== undefined);
  return toRaw(
    rawSharp(image)
      .composite(
        found.map((p) => ({
          input: p.pixels.data,
          raw: { width: p.pixels.width, height: p.pixels.height, channels: p.pixels.channels },
          left: p.left,
          top: p.top,
        })),
      )
      .removeAlpha(),
  );
}

async function blurredPatch(image: RawImage, box: DetectedFace['box']) {
  const centreX = (box.x + box.width / 2) * image.width;
  const centreY = (box.y + box.height / 2) * image.height;
  const halfWidth = (box.width * image.width * BLUR_REACH.width) / 2;
  const halfHeight = (box.height * image.height * BLUR_REACH.height) / 2;
  const left = Math.max(0, Math.floor(centreX - halfWidth));
  const top = Math.max(0, Math.floor(centreY - halfHeight));
  const width = Math.min(image.width, Math.ceil(centreX + halfWidth)) - left;
  const height = Math.min(image.height, Math.ceil(centreY + halfHeight)) - top;
  if (width < 2 || height < 2) return undefined;
  const cell = Math.max(1, Math.round(Math.max(width, height) / CELLS_ACROSS));
  const cellsWide = Math.max(1, Math.round(width / cell));
  const cellsHigh = Math.max(1, Math.round(height / cell));
  const cells = await toRaw(rawSharp(image).extract({ left, top, width, height }).resize(cellsWide, cellsHigh, { fit: 'fill' }));
  const pixels = await toRaw(
    rawSharp(cells)
      .resize(width, height, { fit: 'fill', kernel: 'nearest' })
      .blur(Math.max(0.3, cell / 2)),
  );
  return { left, top, pixels };
}

import { faceTemplate, type Point } from './face-template';
import { type RawImage, rawSharp, toRaw } from './raw-image';
import { fitSimilarity, type Similarity, similarityScale } from './similarity';

/**
 * A 2×2 linear map and a translation: `u = [m11 m12; m21 m22]·p + [tx ty]`. Points are continuous
 * image coordinates: pixel (i, j) covers [i, i+1)×[j, j+1), its centre at (i + ½, j + ½).
 */
interface Affine {
  m11: number;
  m12: number;
  m21: number;
  m22: number;
  tx: number;
  ty: number;
}

/** The transform that warps a face with these five landmarks (pixels) onto the `size` template. */
export function alignmentTransform(landmarks: readonly Point[], size: number): Similarity {
  return fitSimilarity(landmarks, faceTemplate(size));
}

/**
 * The face warped onto the five-point template, `size`×`size`, from the upright image. Only the
 * region that lands on the crop is cut and warped, so a 12 MP photo costs no more than its face.
 */
export async function alignFace(image: RawImage, landmarks: readonly Point[], size: number): Promise<RawImage> {
  const t = alignmentTransform(landmarks, size);
  const region = regionUnderCrop(t, size, image);
  let pixels = await cutRegion(image, region);
  let map: Affine = {
    m11: t.a,
    m12: -t.b,
    m21: t.b,
    m22: t.a,
    tx: t.a * region.left - t.b * region.top + t.tx,
    ty: t.b * region.left + t.a * region.top + t.ty,
  };
  // Interpolation alone aliases when it shrinks more than twofold; resize (which filters) first.
  // sharp's resize keeps pixel centres, so in these coordinates (a pixel's centre at i + ½) it scales.
  const scale = similarityScale(t);
  if (scale < 0.5) {
    const width = Math.max(1, Math.round(pixels.width * scale));
    const height = Math.max(1, Math.round(pixels.height * scale));
    const rx = width / pixels.width;
    const ry = height / pixels.height;
    pixels = await toRaw(rawSharp(pixels).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }));
    map = {
      m11: map.m11 / rx,
      m12: map.m12 / ry,
      m21: map.m21 / rx,
      m22: map.m22 / ry,
      tx: map.tx,
      ty: map.ty,
    };
  }
  return warp(pixels, map, size);
}

interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The pixels of the upright image that the crop samples, with a margin for the interpolator. */
function regionUnderCrop(t: Similarity, size: number, image: RawImage): Region {
  // The inverse of a similarity: p = R⁻¹(u − t)/s², with R⁻¹ = [a b; −b a].
  const s2 = t.a * t.a + t.b * t.b;
  const corners = [
    [0, 0],
    [size, 0],
    [0, size],
    [size, size],
  ].map(([ux = 0, uy = 0]) => ({
    x: (t.a * (ux - t.tx) + t.b * (uy - t.ty)) / s2,
    y: (-t.b * (ux - t.tx) + t.a * (uy - t.ty)) / s2,
  }));
  const margin = 3 + Math.ceil(1 / Math.sqrt(s2));
  const left = Math.floor(Math.min(...corners.map((c) => c.x))) - margin;
  const top = Math.floor(Math.min(...corners.map((c) => c.y))) - margin;
  const right = Math.ceil(Math.max(...corners.map((c) => c.x))) + margin;
  const bottom = Math.ceil(Math.max(...corners.map((c) => c.y))) + margin;
  // A crop larger than the photo many times over is not a face: keep the work bounded.
  const limit = 4 * Math.max(image.width, image.height);
  if (right - left > limit || bottom - top > limit) throw new Error('alignFace: the landmarks do not describe a face in this image');
  return { left, top, width: right - left, height: bottom - top };
}

/** The region, black where it passes the image's edges (a face at the border still gets its crop). */
async function cutRegion(image: RawImage, region: Region): Promise<RawImage> {
  const left = Math.max(0, region.left);
  const top = Math.max(0, region.top);
  const right = Math.min(image.width, region.left + region.width);
  const bottom = Math.min(image.height, region.top + region.height);
  const black = { r: 0, g: 0, b: 0, alpha: 1 };
  if (right <= left || bottom <= top) {
    return toRaw(
      rawSharp({ data: Buffer.alloc(image.channels), width: 1, height: 1, channels: image.channels }).resize(region.width, region.height, {
        fit: 'fill',
      }),
    );
  }
  return toRaw(
    rawSharp(image)
      .extract({ left, top, width: right - left, height: bottom - top })
      .extend({
        left: left - region.left,
        top: top - region.top,
        right: region.left + region.width - right,
        bottom: region.top + region.height - bottom,
        background: black,
      }),
  );
}

/**
 * Applies `map` and keeps the `size`×`size` square at the origin of its output. Two properties of
 * sharp's `affine` decide the arithmetic (measured, and held by test/alignment.test.ts): the output
 * canvas starts at the rounded corner of the transformed image's bounding box, whatever
 * `odx`/`ody` are, and `odx`/`ody` move the content inside it. So the sub-pixel part of the placement goes
 * to `odx`/`ody` and the integer part to an extract afterwards.
 */
async function warp(pixels: RawImage, map: Affine, size: number): Promise<RawImage> {
  const corners = [
    [0, 0],
    [pixels.width, 0],
    [0, pixels.height],
    [pixels.width, pixels.height],
  ].map(([x = 0, y = 0]) => ({ x: map.m11 * x + map.m12 * y, y: map.m21 * x + map.m22 * y }));
  const minX = Math.min(...corners.map((c) => c.x));
  const minY = Math.min(...corners.map((c) => c.y));
  // sharp maps pixel indices (a centre at i): index translation = t + M·(½, ½) − ½.
  const tx = map.tx + (map.m11 + map.m12) / 2 - 0.5;
  const ty = map.ty + (map.m21 + map.m22) / 2 - 0.5;
  // Canvas position c = M·p + od − round(min); the crop wants u = M·p + t, so c − E = u, E integral.
  const odx = tx - Math.floor(tx);
  const ody = ty - Math.floor(ty);
  const extractLeft = -Math.floor(tx) - Math.round(minX);
  const extractTop = -Math.floor(ty) - Math.round(minY);
  const warped = await toRaw(
    rawSharp(pixels).affine([map.m11, map.m12, map.m21, map.m22], { odx, ody, interpolator: 'bicubic', background: '#000000' }),
  );
  if (extractLeft < 0 || extractTop < 0 || extractLeft + size > warped.width || extractTop + size > warped.height) {
    throw new Error(`alignFace: the crop (${extractLeft}, ${extractTop}) falls outside the warped region ${warped.width}×${warped.height}`);
  }
  return toRaw(rawSharp(warped).extract({ left: extractLeft, top: extractTop, width: size, height: size }).removeAlpha());
}

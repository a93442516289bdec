/** A point in pixels, or in fractions of an image where a type says so. */
export interface Point {
  x: number;
  y: number;
}

/**
 * The five-point template of ArcFace (insightface) on a 112×112 crop: the eye centres as they appear
 * in the image (left, right), the nose tip, the mouth corners (left, right). Recognition models
 * trained on this layout expect their input warped onto it.
 */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/** The template for a square crop of `size` pixels (the ArcFace layout, scaled). */
export function faceTemplate(size: number): Point[] {
  const scale = size / 112;
  return ARCFACE_TEMPLATE_112.map((p) => ({ x: p.x * scale, y: p.y * scale }));
}

/** The five points from the 68 of the iBUG layout that face-api's landmark net returns. */
export function fivePoints(landmarks68: readonly Point[]): Point[] {
  const centre = (from: number, to: number): Point => {
    const points = landmarks68.slice(from, to + 1);
    return {
      x: points.reduce((s, p) => s + p.x, 0) / points.length,
      y: points.reduce((s, p) => s + p.y, 0) / points.length,
    };
  };
  const at = (i: number): Point => {
    const p = landmarks68[i];
    if (!p) throw new Error(`landmark ${i} missing: expected 68 points, got ${landmarks68.length}`);
    return { x: p.x, y: p.y };
  };
  // 36–41 and 42–47 outline the eyes as seen in the image (left, right); 30 is the nose tip; 48 and 54
  // are the mouth corners.
  return [centre(36, 41), centre(42, 47), at(30), at(48), at(54)];
}

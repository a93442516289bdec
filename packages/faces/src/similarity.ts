import type { Point } from './face-template';

/**
 * A similarity transform (rotation, uniform scale, translation): `to = [a −b; b a]·from + [tx ty]`.
 * The warp that puts a face on the template keeps its proportions: a non-uniform fit would hide a
 * profile's asymmetry instead of revealing it.
 */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return { x: t.a * p.x - t.b * p.y + t.tx, y: t.b * p.x + t.a * p.y + t.ty };
}

export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/** The least-squares similarity from `from` to `to` (Umeyama's closed form, 2-D). */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Similarity {
  if (from.length !== to.length || from.length < 2) throw new Error('fitSimilarity needs two matching point lists of 2 or more');
  const n = from.length;
  const mean = (ps: readonly Point[]): Point => ({
    x: ps.reduce((s, p) => s + p.x, 0) / n,
    y: ps.reduce((s, p) => s + p.y, 0) / n,
  });
  const mf = mean(from);
  const mt = mean(to);
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const f = from[i] as Point;
    const t = to[i] as Point;
    const fx = f.x - mf.x;
    const fy = f.y - mf.y;
    const gx = t.x - mt.x;
    const gy = t.y - mt.y;
    dot += fx * gx + fy * gy;
    cross += fx * gy - fy * gx;
    norm += fx * fx + fy * fy;
  }
  if (norm === 0) throw new Error('fitSimilarity: the source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: mt.x - (a * mf.x - b * mf.y), ty: mt.y - (b * mf.x + a * mf.y) };
}

/** The root-mean-square distance between the mapped `from` points and `to`, in `to`'s units. */
export function fitResidual(t: Similarity, from: readonly Point[], to: readonly Point[]): number {
  const sum = from.reduce((s, f, i) => {
    const p = applySimilarity(t, f);
    const q = to[i] as Point;
    return s + (p.x - q.x) ** 2 + (p.y - q.y) ** 2;
  }, 0);
  return Math.sqrt(sum / from.length);
}

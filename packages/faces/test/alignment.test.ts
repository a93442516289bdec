import { describe, expect, it } from 'vitest';
import { alignFace } from '../src/alignment';
import { faceTemplate, type Point } from '../src/face-template';
import type { RawImage } from '../src/raw-image';
import { applySimilarity, fitResidual, fitSimilarity } from '../src/similarity';

/** An RGB image, black, with a Gaussian spot (σ in pixels) at each point: landmarks we know exactly. */
function spots(width: number, height: number, points: readonly Point[], sigma: number): RawImage {
  const data = Buffer.alloc(width * height * 3);
  const reach = Math.ceil(sigma * 4);
  for (const p of points) {
    for (let y = Math.max(0, Math.floor(p.y) - reach); y <= Math.min(height - 1, Math.ceil(p.y) + reach); y++) {
      for (let x = Math.max(0, Math.floor(p.x) - reach); x <= Math.min(width - 1, Math.ceil(p.x) + reach); x++) {
        // Pixel (x, y) covers [x, x+1): its centre is at x + ½, the convention sharp's resize keeps.
        const v = 255 * Math.exp(-((x + 0.5 - p.x) ** 2 + (y + 0.5 - p.y) ** 2) / (2 * sigma * sigma));
        const i = (y * width + x) * 3;
        const value = Math.min(255, Math.round((data[i] ?? 0) + v));
        data[i] = value;
        data[i + 1] = value;
        data[i + 2] = value;
      }
    }
  }
  return { data, width, height, channels: 3 };
}

/** Where a spot lies in the crop: the intensity-weighted centroid around where it should be. */
function spotCentre(image: RawImage, near: Point, radius: number): Point {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = Math.floor(near.y - radius); y <= Math.ceil(near.y + radius); y++) {
    for (let x = Math.floor(near.x - radius); x <= Math.ceil(near.x + radius); x++) {
      if (x < 0 || y < 0 || x >= image.width || y >= image.height) continue;
      const v = image.data[(y * image.width + x) * image.channels] ?? 0;
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return { x: sx / sum, y: sy / sum };
}

/** A face of the template's shape, placed in a photo by rotation, scale and shift. */
function placedFace(size: number, angleDegrees: number, scale: number, at: Point): Point[] {
  const angle = (angleDegrees * Math.PI) / 180;
  const centre = { x: size / 2, y: size / 2 };
  return faceTemplate(size).map((p) => {
    const dx = (p.x - centre.x) * scale;
    const dy = (p.y - centre.y) * scale;
    return { x: at.x + dx * Math.cos(angle) - dy * Math.sin(angle), y: at.y + dx * Math.sin(angle) + dy * Math.cos(angle) };
  });
}

describe('five-point alignment', () => {
  it('fits the similarity that maps a placed template back onto the template exactly', () => {
    const template = faceTemplate(112);
    const placed = placedFace(112, 17, 2.3, { x: 400.25, y: 311.7 });
    const t = fitSimilarity(placed, template);
    expect(fitResidual(t, placed, template)).toBeLessThan(1e-9);
    const back = applySimilarity(t, placed[2] as Point);
    expect(back.x).toBeCloseTo(template[2]?.x ?? 0, 9);
  });

  const cases = [
    { name: 'a face the size of the crop, upright', angle: 0, scale: 1, at: { x: 150.3, y: 120.6 } },
    { name: 'a face twice the crop, tilted 20°', angle: 20, scale: 2, at: { x: 300.7, y: 260.2 } },
    { name: 'a small face (half the crop), tilted −35°', angle: -35, scale: 0.5, at: { x: 90.45, y: 70.9 } },
    { name: 'a large face (five times the crop, filtered before the warp), tilted 8°', angle: 8, scale: 5, at: { x: 420.1, y: 390.35 } },
    { name: 'a face cut by the top-left edge of the photo', angle: 12, scale: 1.5, at: { x: 40.2, y: 45.8 } },
  ];
  for (const c of cases) {
    it(`puts each landmark of ${c.name} within 0.05 px of the template`, async () => {
      const size = 112;
      const landmarks = placedFace(size, c.angle, c.scale, c.at);
      // The spots are 1.6 px wide in the crop whatever the face's size, so their centres measure well.
      const image = spots(900, 800, landmarks, 1.6 * c.scale);
      const crop = await alignFace(image, landmarks, size);
      expect([crop.width, crop.height]).toEqual([size, size]);
      for (const [i, expected] of faceTemplate(size).entries()) {
        const found = spotCentre(crop, expected, 6);
        const error = Math.hypot(found.x - expected.x, found.y - expected.y);
        expect(error, `landmark ${i}: found (${found.x.toFixed(3)}, ${found.y.toFixed(3)})`).toBeLessThan(0.05);
      }
    });
  }

  it('scales the template with the configured crop size', async () => {
    const landmarks = placedFace(112, 5, 1.4, { x: 200.5, y: 210.25 });
    // Spots 1.6 px wide in the 224 px crop, as above.
    const image = spots(500, 500, landmarks, (1.6 * 1.4 * 112) / 224);
    const crop = await alignFace(image, landmarks, 224);
    expect([crop.width, crop.height]).toEqual([224, 224]);
    for (const expected of faceTemplate(224)) {
      const found = spotCentre(crop, expected, 8);
      expect(Math.hypot(found.x - expected.x, found.y - expected.y)).toBeLessThan(0.05);
    }
  });
});

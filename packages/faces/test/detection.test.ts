import { describe, expect, it } from 'vitest';
import { alignFace } from '../src/alignment';
import { blurFaces } from '../src/face-blurring';
import { type DetectedFace, detectFaces } from '../src/face-detection';
import { installedModelFiles } from '../src/face-model';
import { faceTemplate } from '../src/face-template';
import { decodeUpright, type RawImage, rawSharp, toRaw } from '../src/raw-image';
import { DEMO_PHOTOS, demoPhoto } from './demo-photos';

const files = installedModelFiles();
const MAX_PIXELS = 50_000_000;

/**
 * A demo photo, upright, and the faces the detector finds in it with the default options: the same
 * call gives the same answer, so each photo is detected once for the file, not once per test
 * (a detection is seconds of a busy machine's CPU).
 */
const detected = new Map<string, Promise<{ image: RawImage; faces: DetectedFace[] }>>();
function uprightFaces(name: string) {
  let found = detected.get(name);
  if (!found) {
    found = (async () => {
      const image = await decodeUpright(demoPhoto(name), MAX_PIXELS);
      return { image, faces: await detectFaces(image, files) };
    })();
    detected.set(name, found);
  }
  return found;
}

describe('faces in real photos', () => {
  for (const photo of DEMO_PHOTOS) {
    it(`finds the ${photo.faces} faces of ${photo.name}, each with five landmarks inside its box`, async () => {
      const { faces } = await uprightFaces(photo.name);
      expect(faces).toHaveLength(photo.faces);
      for (const face of faces) {
        expect(face.landmarks).toHaveLength(5);
        const { x, y, width, height } = face.box;
        for (const p of face.landmarks) {
          expect(p.x).toBeGreaterThan(x - width * 0.1);
          expect(p.x).toBeLessThan(x + width * 1.1);
          expect(p.y).toBeGreaterThan(y - height * 0.1);
          expect(p.y).toBeLessThan(y + height * 1.1);
        }
        expect(face.score).toBeGreaterThan(0.3);
      }
    });
  }

  it('finds the same faces, in fractions, when the photo is stored sideways with an EXIF orientation', async () => {
    const { image: upright, faces: fromUpright } = await uprightFaces('sample6.jpg');
    // Stored rotated 90° clockwise, tagged 8 ("rotate 270° to view"): the viewer turns it back.
    const sideways = await rawSharp(upright).rotate(90).jpeg({ quality: 92 }).withMetadata({ orientation: 8 }).toBuffer();
    const fromSideways = await detectFaces(await decodeUpright(sideways, MAX_PIXELS), files);
    expect(fromSideways).toHaveLength(fromUpright.length);
    for (const [i, face] of fromSideways.entries()) {
      expect(face.box.x).toBeCloseTo(fromUpright[i]?.box.x ?? -1, 1);
      expect(face.box.y).toBeCloseTo(fromUpright[i]?.box.y ?? -1, 1);
    }
  });

  it('aligns each face so that the detector, run on the crop, finds its eyes where the template puts them', async () => {
    const { image, faces } = await uprightFaces('sample5.jpg');
    const template = faceTemplate(112);
    let checked = 0;
    for (const face of faces.filter((f) => !f.quality.poor)) {
      const landmarks = face.landmarks.map((p) => ({ x: p.x * image.width, y: p.y * image.height }));
      const crop = await alignFace(image, landmarks, 112);
      // Seen with a margin (the detector wants context around a face), three times larger.
      // Two steps: within one pipeline sharp resizes before it extends.
      const padded = await toRaw(rawSharp(crop).extend({ top: 56, bottom: 56, left: 56, right: 56, background: '#808080' }));
      const framed = await toRaw(rawSharp(padded).resize(672, 672));
      const again = await detectFaces(framed, files, { detectionSide: 672, minScore: 0.3, poorFitAbove: 6, maxFaces: 4 });
      expect(again.length).toBeGreaterThanOrEqual(1);
      const eyes = again[0]?.landmarks.slice(0, 2).map((p) => ({ x: p.x * 224 - 56, y: p.y * 224 - 56 })) ?? [];
      for (const [i, eye] of eyes.entries()) {
        const expected = template[i] ?? { x: 0, y: 0 };
        // The landmark net's own scatter is a few pixels of a 112 px face.
        expect(Math.hypot(eye.x - expected.x, eye.y - expected.y)).toBeLessThan(6);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('marks a face turned to profile as a poor template fit', async () => {
    const { faces } = await uprightFaces('sample2.jpg');
    const errors = faces.map((f) => f.quality.templateError.toFixed(1));
    // The woman on the left is seen from the side.
    expect(faces[0]?.quality.poor, `template errors ${errors.join(', ')}`).toBe(true);
    expect(faces.filter((f) => !f.quality.poor).length, `template errors ${errors.join(', ')}`).toBeGreaterThanOrEqual(1);
  });

  for (const photo of DEMO_PHOTOS) {
    it(`leaves no face for the detector in the blurred ${photo.name}`, async () => {
      const { image, faces } = await uprightFaces(photo.name);
      const blurred = await blurFaces(image, faces);
      expect(await detectFaces(blurred, files, { detectionSide: 1280, minScore: 0.2, poorFitAbove: 6, maxFaces: 64 })).toEqual([]);
    });
  }
});

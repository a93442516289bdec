import { fivePoints, type Point } from './face-template';
import { type FaceApi, type FaceModelFiles, loadFaceModel } from './face-model';
import { type RawImage, rawSharp, toRaw } from './raw-image';
import { fitResidual, fitSimilarity } from './similarity';
import { faceTemplate } from './face-template';

/** A face found in an upright image: every coordinate a fraction of that image's width or height. */
export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  /** Eye centres (image left, right), nose tip, mouth corners (left, right). */
  landmarks: Point[];
  /** The detector's confidence, 0–1. */
  score: number;
  quality: FaceQuality;
}

/**
 * How well the five points fit the frontal template: the RMS distance, in pixels of the 112 px crop,
 * between the landmarks after the best similarity and the template. A profile, a strong tilt or a
 * blurred face puts its landmarks off the template; `poor` says the crop is not worth recognising.
 */
export interface FaceQuality {
  templateError: number;
  poor: boolean;
}

export interface DetectionOptions {
  /** The longest side of the copy the detector sees: detection cost grows with it, recall of small faces too. */
  detectionSide: number;
  /** The detector's score below which a candidate is not a face. */
  minScore: number;
  /** Template error (112 px crop) above which a face's fit is poor. */
  poorFitAbove: number;
  /** At most this many faces per image (the largest first). */
  maxFaces: number;
}

export const DEFAULT_DETECTION: DetectionOptions = { detectionSide: 1280, minScore: 0.3, poorFitAbove: 6, maxFaces: 64 };

/** Finds the faces of an upright image and their five landmarks, on a copy no longer than `detectionSide`. */
export async function detectFaces(
  image: RawImage,
  files: FaceModelFiles,
  options: DetectionOptions = DEFAULT_DETECTION,
): Promise<DetectedFace[]> {
  const faceapi = await loadFaceModel(files);
  const scale = Math.min(1, options.detectionSide / Math.max(image.width, image.height));
  const small =
    scale < 1
      ? await toRaw(
          rawSharp(image).resize(Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)), {
            fit: 'fill',
          }),
        )
      : image;
  const found = await runDetector(faceapi, small, options);
  const template = faceTemplate(112);
  return found
    .map((f) => {
      const points = fivePoints(f.landmarks.positions);
      const templateError = fitResidual(fitSimilarity(points, template), points, template);
      const box = f.detection.box;
      return {
        box: {
          x: clamp01(box.x / small.width),
          y: clamp01(box.y / small.height),
          width: clamp01(box.width / small.width),
          height: clamp01(box.height / small.height),
        },
        landmarks: points.map((p) => ({ x: p.x / small.width, y: p.y / small.height })),
        score: f.detection.score,
        quality: { templateError, poor: templateError > options.poorFitAbove },
      };
    })
    .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)
    .slice(0, options.maxFaces)
    .sort((a, b) => a.box.x - b.box.x || a.box.y - b.box.y);
}

/** The bare library call: SSD MobileNet v1 and the 68 landmarks on an RGB tensor. */
export async function runDetector(faceapi: FaceApi, image: RawImage, options: Pick<DetectionOptions, 'minScore' | 'maxFaces'>) {
  if (image.channels !== 3) throw new Error(`detectFaces expects RGB, got ${image.channels} channels`);
  const tensor = faceapi.tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    return await faceapi
      .detectAllFaces(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: options.minScore, maxResults: options.maxFaces }))
      .withFaceLandmarks();
  } finally {
    tensor.dispose();
  }
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

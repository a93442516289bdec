import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// The Node build for the WASM backend: it requires '@tensorflow/tfjs' (here TensorFlow.js core and
// its CPU backend, packages/faces/tfjs-lean) and '@tensorflow/tfjs-backend-wasm', and nothing that
// downloads a native binary at install.
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';

export type FaceApi = typeof faceapi;

/** Where the model weights and TensorFlow's `.wasm` files are: the installed packages, or a bundle's copies. */
export interface FaceModelFiles {
  modelDir: string;
  wasmDir: string;
}

/** The installed packages' own files (tests, benches, the local stack). */
export function installedModelFiles(): FaceModelFiles {
  const require = createRequire(import.meta.url);
  return {
    modelDir: join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'),
    wasmDir: dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')),
  };
}

/** The two networks the stage runs: SSD MobileNet v1 (faces) and the 68-point landmark net. */
export const MODEL_FILES = [
  'ssd_mobilenetv1_model-weights_manifest.json',
  'ssd_mobilenetv1_model.bin',
  'face_landmark_68_model-weights_manifest.json',
  'face_landmark_68_model.bin',
] as const;

let loading: Promise<FaceApi> | undefined;

/**
 * face-api with its WASM backend and both networks loaded: once per process (a cold start), since
 * TensorFlow's engine and face-api's networks are process-wide.
 */
export function loadFaceModel(files: FaceModelFiles): Promise<FaceApi> {
  loading ??= (async () => {
    setWasmPaths(files.wasmDir.endsWith('/') ? files.wasmDir : `${files.wasmDir}/`);
    // tfjs answers a backend that fails to start with `false` and its CPU backend, many times
    // slower: a bundle whose .wasm does not load must fail here, not run on.
    if (!(await tf.setBackend('wasm'))) throw new Error(`TensorFlow's WASM backend did not start (its files: ${files.wasmDir})`);
    await tf.ready();
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(files.modelDir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(files.modelDir);
    return faceapi;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

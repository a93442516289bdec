/**
 * What the face function uses: the face stage (face-api, TensorFlow.js and sharp). Only
 * functions/detect-faces imports this entry, so no other bundle carries the model.
 */
export * from './face-stage';
export * from './face-queue';
export * from './face-consent';

export * from './rejection';
export * from './sniff';
export * from './hashes';
export * from './inspection';
export * from './derivatives';
export * from './metadata-removal';
export { captureTime, orientationOnlyExif } from './exif';
export * from './video';
export { shippedVideoTools, unpackVideoTools } from './video-tools-archive';

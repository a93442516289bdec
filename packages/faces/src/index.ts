export * from './alignment';
export * from './face-blurring';
export * from './face-detection';
export * from './face-model';
export * from './face-template';
export * from './raw-image';
export * from './similarity';

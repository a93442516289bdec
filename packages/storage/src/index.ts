export * from './key-layout';
export * from './media-storage';
export * from './content-disposition';
export * from './cdn-urls';
export * from './cdn-invalidation';

export * from './key-layout';
export * from './media-storage';
export * from './content-disposition';

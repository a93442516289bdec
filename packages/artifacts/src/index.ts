export * from './cloud-assembly';
export * from './native-modules';
export * from './isolated-copy';
export * from './lambda-process';
export * from './synthesis';
export * from './arm64-emulation';
export * from './video-tools';
export * from './invoke-endpoint';

export * from './database';
export * from './connection';
export * from './migrator';
export * from './app-role';
export * from './media-repository';
export * from './env';

export * from './database';
export * from './connection';
export * from './migrator';
export * from './media-repository';
export * from './env';
export * from './phash-bands';
export * from './seed';
export * from './usage-recount';

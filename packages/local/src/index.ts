export * from './local-stack';
export * from './dev-token';
export * from './event-pump';
export * from './s3-server';
export * from './sqs-server';
export * from './http-server';
export * from './origins';
export * from './redrive';

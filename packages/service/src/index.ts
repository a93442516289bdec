export * from './dependencies';
export * from './event-publisher';
export * from './media-record';
export * from './upload-service';
export * from './media-service';
export * from './s3-event';
export * from './upload-processor';

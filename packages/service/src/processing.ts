/**
 * What the processing functions use: S3 notifications, the upload processor (validation and
 * derivatives with sharp) and the sweeper that finishes what the event path left behind.
 */
export * from './s3-event';
export * from './upload-processor';
export * from './sweeper';
export * from './subject-export';
export * from './face-queue';
export * from './video-transformer';

/**
 * What the API functions use: dependencies, uploads, media records and their events. Nothing here
 * reaches the image pipeline (sharp): the processor and the sweeper import `@media/service/processing`,
 * so an API bundle never carries a native module it cannot load. test/architecture checks it.
 */
export * from './dependencies';
export * from './event-publisher';
export * from './media-record';
export * from './upload-service';
export * from './multipart-upload';
export * from './media-service';
export * from './downloads';
export * from './announcements';
export * from './rights-service';
export * from './request-throttle';
export * from './rights-job-queue';
export * from './face-access';
export * from './face-consent';
export * from './school-settings';
export * from './messaging';

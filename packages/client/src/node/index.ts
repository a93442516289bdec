/**
 * @media/client/node: what only Node has — files, streams and the bulk uploader behind
 * `npm run upload`. Browsers use `@media/client` alone.
 */
export { contentTypeOf, localFile, sha256OfFile, streamToBuffer, uploadFile, type LocalFile } from './local-file';
export {
  BulkUploadStopped,
  bulkUpload,
  type BulkProgress,
  type BulkUploadOptions,
  type BulkUploadResult,
  type FileOutcome,
} from './bulk-upload';
export { ProgressBar, describeProgress, type ProgressOutput } from './progress-bar';
export { uploadSummary } from './upload-summary';
export { ResumeJournal, userStateDir } from './resume-journal';

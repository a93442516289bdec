import * as z from 'zod/mini';
import {
  BatchUploadRequest,
  CompleteUploadRequest,
  MultipartTicket,
  PartUrlsAnswer,
  PartUrlsRequest,
  UploadedPartsAnswer,
  MediaRecord,
  UploadRequest,
  UploadTicket,
} from './contract';
import type { ErrorCode } from './errors';
import { answerSchema } from './pure-schema';
import { AUTH, type ApiRouteSpec } from './route-spec';

export const BatchUploadAnswer = /* @__PURE__ */ answerSchema(() => z.object({ items: z.array(UploadTicket) }));

const UPLOAD_ERRORS: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  'INVALID_SUBJECT',
  ...AUTH,
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_PENDING_UPLOADS',
];

const MULTIPART_ERRORS: readonly ErrorCode[] = ['VALIDATION_FAILED', ...AUTH, 'NOT_FOUND', 'CONFLICT'];

/** request-upload's routes: the uploads, single, batched and multipart. */
export const UPLOAD_ROUTES = [
  {
    method: 'POST',
    path: '/v1/uploads',
    fn: 'request-upload',
    operationId: 'requestUpload',
    summary: 'Ask for an upload: a pending record and a presigned S3 POST, or a multipart upload whose parts are signed on request',
    body: UploadRequest,
    answer: {
      status: 201,
      schema: answerSchema(() => z.union([UploadTicket, MultipartTicket])),
      description: 'The presigned POST (send the file straight to storage with it), or, with multipart: true, the multipart upload.',
    },
    errors: UPLOAD_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/{id}/parts',
    fn: 'request-upload',
    operationId: 'signUploadParts',
    summary: 'Presigned PUT URLs for parts of a multipart upload (the uploader only; up to 100 per call)',
    body: PartUrlsRequest,
    answer: {
      status: 200,
      schema: PartUrlsAnswer,
      description: 'One URL per part number, in order; PUT the part to it and keep the ETag.',
    },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'GET',
    path: '/v1/uploads/{id}/parts',
    fn: 'request-upload',
    operationId: 'listUploadParts',
    summary: 'The parts storage holds so far (to resume after a reload or a lost connection)',
    answer: { status: 200, schema: UploadedPartsAnswer, description: 'The parts received, by part number.' },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/{id}/complete',
    fn: 'request-upload',
    operationId: 'completeUpload',
    summary: 'Assemble the parts; processing starts as for any upload',
    body: CompleteUploadRequest,
    answer: { status: 200, schema: MediaRecord, description: 'The record, processing or later.' },
    errors: [...MULTIPART_ERRORS, 'UPLOAD_MISMATCH'],
  },
  {
    method: 'DELETE',
    path: '/v1/uploads/{id}',
    fn: 'request-upload',
    operationId: 'abortUpload',
    summary: 'Abort a multipart upload: its parts are removed and the record becomes expired',
    answer: { status: 204, description: 'Aborted.' },
    errors: MULTIPART_ERRORS,
  },
  {
    method: 'POST',
    path: '/v1/uploads/batch',
    fn: 'request-upload',
    operationId: 'requestUploads',
    summary: 'Ask for up to 50 uploads at once; accepted or refused as a whole',
    body: BatchUploadRequest,
    answer: { status: 201, schema: BatchUploadAnswer, description: 'One ticket per item, in order.' },
    errors: UPLOAD_ERRORS,
  },
] as const satisfies readonly ApiRouteSpec[];

import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { MediaFunctionName } from './media-function';

export type KeyPrefix = 'incoming/' | 'originals/' | 'derivatives/' | 'exports/' | 'scratch/';
export type ObjectAction =
  | 's3:GetObject'
  | 's3:PutObject'
  | 's3:PutObjectTagging'
  | 's3:DeleteObject'
  | 's3:ListMultipartUploadParts'
  | 's3:AbortMultipartUpload';

export interface FunctionAccess {
  /** Object actions, each on whole key prefixes only. */
  objects: { actions: ObjectAction[]; prefixes: KeyPrefix[] }[];
  /**
   * s3:ListBucket. `bucket`: on any key, which a function needs when it asks about objects that may
   * be missing (without it S3 answers 403 instead of 404). Or only under the listed prefixes.
   */
  list?: 'bucket' | KeyPrefix[];
  /** Publishes media.* events to the outbound events topic (never to a consumer's queue directly). */
  publishesEvents: boolean;
  /** Sends video items to the video function's queue (they are never processed where photos are). */
  forwardsVideos?: boolean;
}

/**
 * Reads an upload, writes the original and derivatives, removes the upload (and everything, when
 * the item was deleted meanwhile). What process-upload does, and the sweeper when it finishes work.
 */
const PROCESSING: FunctionAccess = {
  objects: [
    { actions: ['s3:GetObject'], prefixes: ['incoming/', 'originals/'] },
    { actions: ['s3:PutObject'], prefixes: ['originals/', 'derivatives/'] },
    // Originals carry a purpose tag for the lifecycle rules (attendance moves to infrequent access).
    { actions: ['s3:PutObjectTagging'], prefixes: ['originals/'] },
    { actions: ['s3:DeleteObject'], prefixes: ['incoming/', 'originals/', 'derivatives/'] },
    // The sweeper aborts multipart uploads that outlived their expiry.
    { actions: ['s3:AbortMultipartUpload'], prefixes: ['incoming/'] },
  ],
  list: 'bucket',
  publishesEvents: true,
};

/**
 * Which function may do what, and where (keys: docs/architecture.md § Keys). A reviewer reads this table against
 * the code; nothing else grants these functions S3 or queue access, and no statement has a
 * wildcard action or a bare `*` resource. Every function also signs in to the database.
 */
export const FUNCTION_ACCESS: Record<MediaFunctionName, FunctionAccess> = {
  // Signs the browser's POST to incoming/{tenant}/{id}: S3 checks the signer's right to put there.
  // Multipart uploads: PutObject covers starting, signing parts and completing; listing the parts
  // (to check them and to resume) and aborting are actions of their own.
  'request-upload': {
    objects: [{ actions: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], prefixes: ['incoming/'] }],
    publishesEvents: false,
  },
  // Signs GETs of validated originals and derivatives, never of unchecked uploads.
  'get-download': { objects: [{ actions: ['s3:GetObject'], prefixes: ['originals/', 'derivatives/'] }], publishesEvents: false },
  // DELETE removes every object of an item, finding its derivatives by listing their prefix, and
  // lists its three places again to record the purge only once nothing remains.
  // It also signs the GET of a finished export's ZIP file (the right of access).
  'media-api': {
    objects: [
      { actions: ['s3:DeleteObject'], prefixes: ['incoming/', 'originals/', 'derivatives/'] },
      { actions: ['s3:GetObject'], prefixes: ['exports/'] },
    ],
    list: ['incoming/', 'originals/', 'derivatives/'],
    publishesEvents: true,
  },
  'process-upload': { ...PROCESSING, forwardsVideos: true },
  // The videos the photo processor and the sweeper forward: the same objects, one item at a time.
  // It signs the transform function's URLs (a GET of the upload, PUTs under scratch/: S3 checks the
  // signer's rights), then reads the poster frame, copies the clean copy into originals/ and removes both.
  'process-video': {
    ...PROCESSING,
    objects: [...PROCESSING.objects, { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], prefixes: ['scratch/'] }],
  },
  // Nothing at all: it works on the presigned URLs the video function hands it (infra/lib/processing.ts).
  'transform-video': { objects: [], publishesEvents: false },
  // Processes late arrivals as the processor does (forwarding videos), expires abandoned uploads, purges deleted items;
  // writes export ZIP files (a multipart upload, aborted on failure) from the originals it reads.
  sweeper: {
    ...PROCESSING,
    forwardsVideos: true,
    objects: [...PROCESSING.objects, { actions: ['s3:PutObject', 's3:AbortMultipartUpload'], prefixes: ['exports/'] }],
  },
  // Only the database.
  migrate: { objects: [], publishesEvents: false },
  // The face stage: reads a photo's original or a video's poster, writes `blurred` and the crops, and
  // removes what it wrote when the item was deleted meanwhile. No CDN invalidation: no URL names an
  // object before the stage records it, and a rerun writes the same image under the same key.
  'detect-faces': {
    objects: [
      { actions: ['s3:GetObject'], prefixes: ['originals/', 'derivatives/'] },
      { actions: ['s3:PutObject', 's3:DeleteObject'], prefixes: ['derivatives/'] },
    ],
    publishesEvents: false,
  },
};

export interface ServiceResources {
  bucket: s3.IBucket;
  key?: kms.IKey;
  events: sns.ITopic;
  videos: sqs.IQueue;
}

/** Adds a function's row of the table to its role, with the KMS use it implies when the bucket has a key. */
export function grantFunctionAccess(grantee: iam.IGrantable, name: MediaFunctionName, resources: ServiceResources): void {
  const access = FUNCTION_ACCESS[name];
  const { bucket, key } = resources;
  const allow = (statement: iam.PolicyStatementProps) => grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement(statement));

  for (const { actions, prefixes } of access.objects) {
    allow({ actions, resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)) });
  }
  if (access.list === 'bucket') {
    allow({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] });
  } else if (access.list) {
    allow({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': access.list.map((prefix) => `${prefix}*`) } },
    });
  }
  if (key) {
    const actions = new Set(access.objects.flatMap((o) => o.actions));
    const kmsActions = [
      ...(actions.has('s3:PutObject') ? ['kms:GenerateDataKey'] : []),
      // Reading, and multipart writes, decrypt with the key.
      ...(actions.has('s3:GetObject') || actions.has('s3:PutObject') ? ['kms:Decrypt'] : []),
    ];
    if (kmsActions.length) allow({ actions: kmsActions, resources: [key.keyArn] });
  }
  if (access.publishesEvents) {
    allow({ actions: ['sns:Publish'], resources: [resources.events.topicArn] });
  }
  if (access.forwardsVideos) {
    // The queue is SSE-SQS encrypted: sending needs no KMS grant.
    allow({ actions: ['sqs:SendMessage'], resources: [resources.videos.queueArn] });
  }
}

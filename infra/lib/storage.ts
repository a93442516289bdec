import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface StorageProps {
  /** Browser origins that may POST uploads and GET downloads; none means no CORS at all. */
  allowedOrigins: string[];
  encryption: 's3' | 'kms';
  removalPolicy: RemovalPolicy;
  /** A CDN writes its standard logs into the access-log bucket: those need ACLs enabled there. */
  cdnLogs?: boolean;
}

/**
 * The object tag the infrequent-access rule keys on (purpose isn't part of a key): the processor
 * writes every original with `purpose=<purpose>` (it holds s3:PutObjectTagging on originals/).
 */
export const PURPOSE_TAG = 'purpose';

/**
 * The media bucket and its access-log bucket. Nothing in it is public, ever: every object is
 * reached through a presigned URL that a function minted after its policy check.
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    // Server access logs can only be delivered to SSE-S3 buckets.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront's standard logs are delivered with an ACL; the bucket still owns every object,
      // and Block Public Access keeps any ACL from making one public.
      objectOwnership: props.cdnLogs ? s3.ObjectOwnership.BUCKET_OWNER_PREFERRED : s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging it into itself would loop.',
    });

    if (props.encryption === 'kms') {
      this.key = new kms.Key(this, 'Key', {
        description: "Encrypts the media objects (children's photos) at rest",
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy,
      });
    }

    this.bucket = new s3.Bucket(this, 'Media', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(this.key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Deleted photos must really be gone: no old versions to linger.
      versioned: false,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'media/',
      cors: props.allowedOrigins.length
        ? [
            {
              allowedOrigins: props.allowedOrigins,
              // PUT: the parts of multipart uploads, each to its presigned URL.
              allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD, s3.HttpMethods.PUT],
              // The presigned POST policy and GET signature pin what matters; headers add nothing.
              allowedHeaders: ['*'],
              // A browser must read each part's ETag to complete a multipart upload.
              exposedHeaders: ['ETag'],
              maxAge: 3000,
            },
          ]
        : undefined,
      lifecycleRules: [
        // An upload is processed within seconds; what stays in incoming/ a day is abandoned or bad.
        { id: 'expire-incoming', prefix: 'incoming/', expiration: Duration.days(1) },
        // A person's export (the right of access) is fetched within days; nothing keeps it longer.
        { id: 'expire-exports', prefix: 'exports/', expiration: Duration.days(7) },
        // A video transform's outputs are read within minutes; what a crash left there goes after a day.
        { id: 'expire-scratch', prefix: 'scratch/', expiration: Duration.days(1) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Attendance photos are kept for audit and rarely read after a term.
        {
          id: 'attendance-originals-to-infrequent-access',
          prefix: 'originals/',
          tagFilters: { [PURPOSE_TAG]: 'attendance' },
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) }],
        },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
  }

  /** S3 tells the ingest queue about every object created under `incoming/`, and nothing else. */
  notifyUploads(queue: sqs.IQueue): void {
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(queue), { prefix: 'incoming/' });
  }
}

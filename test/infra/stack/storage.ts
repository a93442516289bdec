import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONFIGURED, resourcesOf, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const bucketId = idOf(stack.storage.bucket);
const accessLogsId = idOf(stack.storage.accessLogs);
const ingestId = idOf(stack.queues.ingest);
const buckets = resourcesOf(template, 'AWS::S3::Bucket');
const media = buckets[bucketId].Properties;

describe('the media bucket', () => {
  it('blocks every kind of public access, as does the access-log bucket', () => {
    for (const id of [bucketId, accessLogsId]) {
      expect(buckets[id].Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('refuses any request that does not use TLS, on both buckets', () => {
    for (const id of [bucketId, accessLogsId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('encrypts objects at rest with S3-managed keys by default', () => {
    expect(media.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
  });

  it('enforces bucket-owner object ownership, so no ACL can share an object', () => {
    expect(media.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  it('keeps no old versions of deleted photos', () => {
    expect(media.VersioningConfiguration).toBeUndefined();
  });

  it('answers no cross-origin request when no origin is configured', () => {
    expect(media.CorsConfiguration).toBeUndefined();
  });

  it('expires what stays in incoming/ for a day', () => {
    expect(media.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-incoming', Prefix: 'incoming/', ExpirationInDays: 1, Status: 'Enabled' }),
    );
  });

  it('expires export ZIP files after seven days', () => {
    expect(media.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-exports', Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
    );
  });

  it('aborts incomplete multipart uploads after a day', () => {
    expect(media.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
    );
  });

  it('moves attendance originals to infrequent access after 90 days', () => {
    expect(media.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({
        Prefix: 'originals/',
        TagFilters: [{ Key: 'purpose', Value: 'attendance' }],
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
        Status: 'Enabled',
      }),
    );
  });

  it('writes its server access logs to the access-log bucket', () => {
    expect(media.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: accessLogsId }, LogFilePrefix: 'media/' });
  });

  it('tells the ingest queue of objects created under incoming/, and of nothing else', () => {
    const notifications = Object.values(resourcesOf(template, 'Custom::S3BucketNotifications'));
    expect(notifications).toHaveLength(1);
    const { BucketName, NotificationConfiguration } = notifications[0].Properties;
    expect(BucketName).toEqual({ Ref: bucketId });
    expect(NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } },
          QueueArn: { 'Fn::GetAtt': [ingestId, 'Arn'] },
        },
      ],
    });
  });

  it('lets only this bucket send to the ingest queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ingestId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});

describe('the media bucket, configured', () => {
  const other = synthesize(CONFIGURED);
  const configured = other.template;
  const bucket = resourcesOf(configured, 'AWS::S3::Bucket');
  const props = bucket[other.idOf(other.stack.storage.bucket)].Properties;

  it('allows exactly the configured origins, only POST, GET, HEAD and PUT (the parts of multipart uploads), and exposes ETag', () => {
    expect(props.CorsConfiguration.CorsRules).toHaveLength(1);
    const [rule] = props.CorsConfiguration.CorsRules;
    expect(rule.AllowedOrigins).toEqual(['https://school.example', 'http://localhost:5173']);
    expect([...rule.AllowedMethods].sort()).toEqual(['GET', 'HEAD', 'POST', 'PUT']);
    expect(rule.ExposedHeaders).toEqual(['ETag']);
  });

  it('encrypts with its own rotating KMS key when asked to', () => {
    const keyId = other.idOf(other.stack.storage.key!);
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      },
    ]);
    configured.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('keeps the access-log bucket on S3-managed keys, the only kind log delivery accepts', () => {
    const logs = bucket[other.idOf(other.stack.storage.accessLogs)].Properties;
    expect(logs.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
  });
});

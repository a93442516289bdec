import { describe, expect, it } from 'vitest';
import type { Database } from '../../../infra/lib/database';
import { CONFIGURED, asArray, readable, resourcesOf, serviceFunctions, statementsOfRole, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const functions = serviceFunctions(template);
const names: Record<string, string> = {
  [idOf(stack.storage.bucket)]: 'bucket',
  [idOf(stack.queues.ingest)]: 'ingest-queue',
  [idOf(stack.queues.videos)]: 'video-queue',
  [idOf(stack.queues.eventsTopic)]: 'events-topic',
  [idOf(stack.rightsJobs.queue)]: 'rights-jobs-queue',
  [idOf(stack.faces.queue)]: 'face-queue',
  [idOf((stack.database as Database).appSecret!)]: 'app-secret',
  [idOf(stack.processing.videoTransform)]: 'transform-video',
};

/** A function's S3 statements as `action on resource` lines, sorted. */
function s3Access(name: string): string[] {
  const role = functions[name]!.props.Role['Fn::GetAtt'][0] as string;
  return statementsOfRole(template, role)
    .filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('s3:')))
    .flatMap((s) =>
      asArray(s.Action as string | string[]).flatMap((action) =>
        asArray(readable(s.Resource, names) as string | string[]).map(
          (resource) => `${action} on ${resource}${s.Condition ? ` if ${JSON.stringify(s.Condition)}` : ''}`,
        ),
      ),
    )
    .sort();
}

/** Every other statement of a function's role, as `action on resource` lines (one per resource of a merged statement). */
function otherAccess(name: string): string[] {
  const role = functions[name]!.props.Role['Fn::GetAtt'][0] as string;
  return statementsOfRole(template, role)
    .filter((s) => !asArray(s.Action as string | string[]).some((a) => a.startsWith('s3:')))
    .flatMap((s) =>
      asArray(s.Action as string | string[]).flatMap((action) =>
        asArray(readable(s.Resource, names) as unknown).map((resource) => `${action} on ${JSON.stringify(resource)}`),
      ),
    )
    .sort();
}

// Written by hand from the issue and the code, not generated from infra/lib/function-access.ts.
const EXPECTED_S3: Record<string, string[]> = {
  'request-upload': [
    's3:AbortMultipartUpload on bucket/incoming/*',
    's3:ListMultipartUploadParts on bucket/incoming/*',
    's3:PutObject on bucket/incoming/*',
  ],
  'get-download': ['s3:GetObject on bucket/derivatives/*', 's3:GetObject on bucket/originals/*'],
  'media-api': [
    's3:DeleteObject on bucket/derivatives/*',
    's3:DeleteObject on bucket/incoming/*',
    's3:DeleteObject on bucket/originals/*',
    's3:GetObject on bucket/exports/*',
    's3:ListBucket on bucket if {"StringLike":{"s3:prefix":["incoming/*","originals/*","derivatives/*"]}}',
  ],
  'process-upload': [
    's3:AbortMultipartUpload on bucket/incoming/*',
    's3:DeleteObject on bucket/derivatives/*',
    's3:DeleteObject on bucket/incoming/*',
    's3:DeleteObject on bucket/originals/*',
    's3:GetObject on bucket/incoming/*',
    's3:GetObject on bucket/originals/*',
    's3:ListBucket on bucket',
    's3:PutObject on bucket/derivatives/*',
    's3:PutObject on bucket/originals/*',
    's3:PutObjectTagging on bucket/originals/*',
  ],
  migrate: [],
  // Reads the image (a photo's original, a video's poster), writes `blurred` and the crops, removes
  // what it wrote when the item went meanwhile; never an upload, never a list, never an original written.
  'detect-faces': [
    's3:DeleteObject on bucket/derivatives/*',
    's3:GetObject on bucket/derivatives/*',
    's3:GetObject on bucket/originals/*',
    's3:PutObject on bucket/derivatives/*',
  ],
};
// The video function: what the photo processor may do in S3, and scratch/ for the transform's
// outputs (it signs their PUTs, reads the poster, copies the clean copy out and removes both).
EXPECTED_S3['process-video'] = [
  ...EXPECTED_S3['process-upload']!,
  's3:DeleteObject on bucket/scratch/*',
  's3:GetObject on bucket/scratch/*',
  's3:PutObject on bucket/scratch/*',
].sort();
// Nothing: it reads and writes through the presigned URLs it is handed.
EXPECTED_S3['transform-video'] = [];
// What the processor may do, and write export ZIP files (multipart) under exports/ only.
EXPECTED_S3.sweeper = [
  ...EXPECTED_S3['process-upload']!,
  's3:AbortMultipartUpload on bucket/exports/*',
  's3:PutObject on bucket/exports/*',
].sort();

describe('what each function may do in S3', () => {
  it('request-upload may only put objects under incoming/, and list and abort the multipart uploads there', () => {
    expect(s3Access('request-upload')).toEqual(EXPECTED_S3['request-upload']);
  });

  it('get-download may only get objects under originals/ and derivatives/', () => {
    expect(s3Access('get-download')).toEqual(EXPECTED_S3['get-download']);
  });

  it("media-api may only delete an item's objects, list where they live (to confirm a purge) and sign the GET of an export", () => {
    expect(s3Access('media-api')).toEqual(EXPECTED_S3['media-api']);
  });

  it('process-upload reads uploads, writes originals and derivatives, removes what it must', () => {
    expect(s3Access('process-upload')).toEqual(EXPECTED_S3['process-upload']);
  });

  it('process-video may do in S3 what process-upload does, and use scratch/ for the transform', () => {
    expect(s3Access('process-video')).toEqual(EXPECTED_S3['process-video']);
  });

  it("the sweeper may do what the processor does (it finishes the processor's work) and write exports, nothing else", () => {
    expect(s3Access('sweeper')).toEqual(EXPECTED_S3.sweeper);
  });

  it('transform-video has no S3 access at all', () => {
    expect(s3Access('transform-video')).toEqual([]);
  });

  it('detect-faces may read originals and derivatives and write and remove derivatives, nothing else', () => {
    expect(s3Access('detect-faces')).toEqual(EXPECTED_S3['detect-faces']);
  });

  it('migrate has no S3 access at all', () => {
    expect(s3Access('migrate')).toEqual([]);
  });
});

describe('what each function may do besides S3', () => {
  const connect = 'rds-db:connect';

  it('request-upload and get-download only sign in to the database', () => {
    for (const name of ['request-upload', 'get-download']) {
      expect(
        otherAccess(name).map((line) => line.split(' on ')[0]),
        name,
      ).toEqual([connect]);
    }
  });

  it("migrate signs in as the owner and reads the app role's secret, no other secret", () => {
    expect(otherAccess('migrate')).toEqual([
      expect.stringMatching(/^rds-db:connect on .*:dbuser:.*\/media_admin"$/),
      'secretsmanager:DescribeSecret on "app-secret"',
      'secretsmanager:GetSecretValue on "app-secret"',
    ]);
  });

  // Hands ready items (or owed ones, or ones a new consent concerns) to the face stage: sending only.
  const sendsFaceJobs = 'sqs:SendMessage on "face-queue"';

  const sendsRightsJobs = [
    'sqs:GetQueueAttributes on "rights-jobs-queue"',
    'sqs:GetQueueUrl on "rights-jobs-queue"',
    'sqs:SendMessage on "rights-jobs-queue"',
  ];

  it('media-api also publishes to the outbound events topic, announces rights jobs and sends face jobs, nowhere else', () => {
    expect(otherAccess('media-api')).toEqual(
      [expect.stringMatching(/^rds-db:connect on /), 'sns:Publish on "events-topic"', ...sendsRightsJobs, sendsFaceJobs].sort(),
    );
  });

  it('the sweeper publishes events, consumes the rights-jobs queue (announcing the rest of a long erasure there), forwards videos and resends face jobs, nothing else', () => {
    expect(otherAccess('sweeper').filter((line) => !line.startsWith('rds-db:'))).toEqual(
      [
        'sns:Publish on "events-topic"',
        'sqs:ChangeMessageVisibility on "rights-jobs-queue"',
        'sqs:DeleteMessage on "rights-jobs-queue"',
        'sqs:ReceiveMessage on "rights-jobs-queue"',
        ...sendsRightsJobs,
        sendsFaceJobs,
        'sqs:SendMessage on "video-queue"',
      ].sort(),
    );
  });

  it('process-upload consumes the ingest queue, publishes to the events topic, forwards videos and hands ready photos to the face queue', () => {
    expect(otherAccess('process-upload').filter((line) => !line.startsWith(connect))).toEqual([
      'sns:Publish on "events-topic"',
      'sqs:ChangeMessageVisibility on "ingest-queue"',
      'sqs:DeleteMessage on "ingest-queue"',
      'sqs:GetQueueAttributes on "ingest-queue"',
      'sqs:GetQueueUrl on "ingest-queue"',
      'sqs:ReceiveMessage on "ingest-queue"',
      sendsFaceJobs,
      'sqs:SendMessage on "video-queue"',
    ]);
  });

  it('process-video consumes the video queue, publishes to the events topic, hands ready posters to the face queue and invokes the transform function alone', () => {
    expect(otherAccess('process-video').filter((line) => !line.startsWith(connect))).toEqual([
      'lambda:InvokeFunction on "transform-video"',
      'sns:Publish on "events-topic"',
      'sqs:ChangeMessageVisibility on "video-queue"',
      'sqs:DeleteMessage on "video-queue"',
      'sqs:GetQueueAttributes on "video-queue"',
      'sqs:GetQueueUrl on "video-queue"',
      'sqs:ReceiveMessage on "video-queue"',
      sendsFaceJobs,
    ]);
  });

  it('detect-faces consumes the face queue and signs in to the database: no events, no other queue, no CDN, no secret', () => {
    expect(otherAccess('detect-faces').filter((line) => !line.startsWith(connect))).toEqual([
      'sqs:ChangeMessageVisibility on "face-queue"',
      'sqs:DeleteMessage on "face-queue"',
      'sqs:GetQueueAttributes on "face-queue"',
      'sqs:GetQueueUrl on "face-queue"',
      'sqs:ReceiveMessage on "face-queue"',
    ]);
  });

  it("signs in to the database only as the proxy's DML-only media_app user; only migrate as the owner, media_admin", () => {
    for (const name of Object.keys(functions).filter((n) => n !== 'transform-video')) {
      const lines = otherAccess(name).filter((line) => line.startsWith(connect));
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(name === 'migrate' ? /:dbuser:.*\/media_admin"$/ : /:dbuser:.*\/media_app"$/);
    }
  });

  it('reads no secret but migrate', () => {
    for (const name of Object.keys(functions).filter((n) => n !== 'migrate')) {
      expect(
        otherAccess(name).filter((line) => line.startsWith('secretsmanager:')),
        name,
      ).toEqual([]);
    }
  });

  it('uses no AWS managed policy but the Lambda logging and VPC networking ones', () => {
    for (const [name, fn] of Object.entries(functions)) {
      const role = resourcesOf(template, 'AWS::IAM::Role')[fn.props.Role['Fn::GetAtt'][0]];
      const managed = (role.Properties.ManagedPolicyArns as unknown[]).map(
        (arn) => JSON.stringify(arn).match(/policy\/service-role\/(\w+)/)?.[1],
      );
      expect(managed.sort(), name).toEqual(
        name === 'transform-video' ? ['AWSLambdaBasicExecutionRole'] : ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole'],
      );
    }
  });
});

describe('S3 permissions anywhere in the template', () => {
  const everyStatement = [
    ...Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement),
    ...Object.values(resourcesOf(template, 'AWS::IAM::Role')).flatMap((r) =>
      (r.Properties.Policies ?? []).flatMap((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement),
    ),
    ...Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement),
  ];
  const s3Allows = everyStatement.filter(
    (s) => s.Effect === 'Allow' && asArray(s.Action as string | string[]).some((a) => a.startsWith('s3:')),
  );

  it('never allow a wildcard S3 action', () => {
    expect(s3Allows.length).toBeGreaterThan(0);
    for (const s of s3Allows) for (const action of asArray(s.Action as string | string[])) expect(action).not.toContain('*');
  });

  it('never allow S3 on a bare * resource', () => {
    for (const s of s3Allows) for (const resource of asArray(s.Resource)) expect(resource).not.toBe('*');
  });
});

describe('with a KMS-encrypted bucket', () => {
  const kms = synthesize(CONFIGURED);
  const fns = serviceFunctions(kms.template);
  const keyId = kms.idOf(kms.stack.storage.key!);
  const kmsActions = (name: string) =>
    statementsOfRole(kms.template, fns[name]!.props.Role['Fn::GetAtt'][0])
      .filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('kms:')))
      .map((s) => ({ actions: asArray(s.Action as string | string[]).sort(), resource: s.Resource }));

  it('lets writers encrypt and readers decrypt with the bucket key, and no one else use it', () => {
    const key = { 'Fn::GetAtt': [keyId, 'Arn'] };
    expect(kmsActions('request-upload')).toEqual([{ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: key }]);
    expect(kmsActions('get-download')).toEqual([{ actions: ['kms:Decrypt'], resource: key }]);
    // Its presigned GETs of export ZIP files are decrypted with the signer's rights.
    expect(kmsActions('media-api')).toEqual([{ actions: ['kms:Decrypt'], resource: key }]);
    expect(kmsActions('migrate')).toEqual([]);
  });
});

describe('the transform function (least power for the parsers of a video)', () => {
  const statements = () => statementsOfRole(template, functions['transform-video']!.props.Role['Fn::GetAtt'][0] as string);
  const actions = () => statements().flatMap((s) => asArray(s.Action as string | string[]));

  it('has no S3, KMS, database or secret statement in its role: no statement at all', () => {
    for (const service of ['s3:', 'kms:', 'rds-db:', 'secretsmanager:', 'sqs:', 'sns:', 'lambda:']) {
      expect(
        actions().filter((a) => a.startsWith(service)),
        service,
      ).toEqual([]);
    }
    expect(statements()).toEqual([]);
  });

  it('runs outside the VPC', () => {
    expect(functions['transform-video']!.props.VpcConfig).toBeUndefined();
  });

  it('is the only function the video function may invoke, and no other function may invoke anything', () => {
    for (const name of Object.keys(functions)) {
      expect(
        otherAccess(name).filter((line) => line.startsWith('lambda:')),
        name,
      ).toEqual(name === 'process-video' ? ['lambda:InvokeFunction on "transform-video"'] : []);
    }
  });

  it("keeps the KMS use of the signer: presigned URLs act with the video function's rights, key use included", () => {
    const { template: encrypted } = synthesize(CONFIGURED);
    const signer = serviceFunctions(encrypted)['process-video']!.props.Role['Fn::GetAtt'][0] as string;
    const kms = statementsOfRole(encrypted, signer).flatMap((s) =>
      asArray(s.Action as string | string[]).filter((a) => a.startsWith('kms:')),
    );
    expect(kms.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    const transform = serviceFunctions(encrypted)['transform-video']!.props.Role['Fn::GetAtt'][0] as string;
    expect(statementsOfRole(encrypted, transform)).toEqual([]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, newMediaId } from '@media/core';
import type { Database } from '@media/db';
import { LOCAL_S3_CREDENTIALS, lambdaContext, startS3Server, type S3Server } from '@media/local';
import { createDependencies, type Dependencies } from '@media/service';
import { MediaStorage, originalKey } from '@media/storage';
import { handler } from '../../functions/detect-faces/handler';
import { demoPhoto } from '../../packages/faces/test/demo-photos';
import { testDatabase, uniqueTenant } from '../support/database';

const bucket = 'faces-handler';
let db: Kysely<Database>;
let s3: S3Server;
let dir: string;
let deps: Dependencies;

beforeAll(async () => {
  db = await testDatabase();
  dir = await mkdtemp(join(tmpdir(), 'faces-handler-'));
  s3 = await startS3Server({ directory: dir, host: '127.0.0.1', port: 0, bucket, allowedOrigins: ['http://localhost:*'] });
  const config = loadConfig({ MEDIA_BUCKET: bucket, MEDIA_JWT_SECRET: 'x'.repeat(32), MEDIA_PGLITE_DIR: 'memory://' });
  const storage = new MediaStorage({
    bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  deps = await createDependencies(config, { db, storage });
});

afterAll(async () => {
  await s3?.stop();
  await db?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function readyPhoto(tenant: string): Promise<string> {
  const id = newMediaId();
  const key = originalKey(tenant, id);
  const bytes = demoPhoto('sample4.jpg');
  await deps.storage.put(key, bytes, 'image/jpeg');
  await db
    .insertInto('media')
    .values({
      id,
      tenant,
      purpose: 'general',
      status: 'pending',
      subjectId: null,
      classroomId: null,
      uploadedBy: 'teacher-1',
      contentType: 'image/jpeg',
      declaredSize: bytes.length,
      filename: null,
      variants: '[]',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    })
    .execute();
  await db
    .updateTable('media')
    .set({
      status: 'ready',
      size: bytes.length,
      width: 1920,
      height: 1448,
      originalKey: key,
      processedAt: new Date(),
      eventPublishedAt: new Date(),
    })
    .where('id', '=', id)
    .execute();
  return id;
}

const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, n) => ({
    messageId: `m-${n}`,
    receiptHandle: `r-${n}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:media-faces',
    awsRegion: 'us-east-1',
  })),
});

describe('the detect-faces function', () => {
  it('runs a batch: detects the faces of a job, drops a hostile body, and hands back only the job leased elsewhere', async () => {
    const tenant = uniqueTenant();
    const fresh = await readyPhoto(tenant);
    const leased = await readyPhoto(tenant);
    await deps.faces.claim(tenant, leased, 300);
    const answer = await handler.withDependencies(deps)(
      sqsEvent([
        JSON.stringify({ kind: 'faces', tenant, mediaId: fresh }),
        '{"kind":"faces","tenant":"x","mediaId":"../../etc/passwd"}',
        'not json',
        JSON.stringify({ kind: 'faces', tenant, mediaId: leased }),
      ]),
      lambdaContext('detect-faces', 120_000, 2048),
    );
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'm-3' }]);
    expect((await deps.faces.find(fresh))?.faces).toHaveLength(4);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  hostRunnableFunctions,
  runtimeEnvironment,
  startFunction,
  startInvokeEndpoint,
  synthesizedApp,
  type InvokeEndpoint,
  type PreparedFunction,
  type StartedFunction,
} from '@media/artifacts';
import { newMediaId } from '@media/core';
import { createDatabase, MediaRepository, type Database } from '@media/db';
import { VideoTransformAnswer } from '@media/imaging';
import { notificationBody } from '@media/local';
import { incomingKey, SCRATCH_PREFIX } from '@media/storage';
import { REPO_ROOT } from '../../infra/lib/repo';
import { makePhoto } from '../fixtures/photos';
import { LOCATION, phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { createPending } from '../support/media-rows';
import { dataPlaneEnvironment, startLocalBucket, type LocalBucket } from '../support/shipped-functions';

/**
 * The transform function as it deploys, started from its asset alone with exactly its template's
 * environment (no bucket, no database, no credentials of ours: it is given presigned URLs), and
 * the video function that invokes it through Lambda's Invoke API. On this machine the tools are
 * Debian's (the shipped archive is Lambda's CPU; the arm64 test runs that one under emulation).
 */
describe('the shipped transform-video function, invoked with presigned URLs', () => {
  let workDir: string;
  let bucketServer: LocalBucket;
  let db: Kysely<Database>;
  let functions: PreparedFunction[];
  let transform: StartedFunction;
  let processor: StartedFunction;
  let lambda: InvokeEndpoint;
  const bucket = 'media-transform';
  const tenant = uniqueTenant();
  const fn = (name: string) => functions.find((f) => f.name === name)!;
  const storage = () => bucketServer.storage();
  const debianTools = { MEDIA_FFPROBE_PATH: 'ffprobe', MEDIA_FFMPEG_PATH: 'ffmpeg' };

  beforeAll(async () => {
    const databaseUrl = inject('databaseUrl');
    workDir = await mkdtemp(join(tmpdir(), 'media-transform-'));
    functions = await hostRunnableFunctions(await synthesizedApp({ repoRoot: REPO_ROOT }));
    bucketServer = await startLocalBucket(workDir, bucket);
    db = await createDatabase({ url: databaseUrl });

    const t = fn('transform-video');
    // No credentials, no endpoint, no bucket: whatever it reads or writes, the URLs allow.
    transform = await startFunction({
      dir: t.dir,
      handler: t.handler,
      functionName: t.name,
      timeoutSeconds: t.timeoutSeconds,
      environment: runtimeEnvironment(t, {}, { AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true', ...debianTools }),
    });
    lambda = await startInvokeEndpoint({ 'transform-video': transform });

    const p = fn('process-video');
    processor = await startFunction({
      dir: p.dir,
      handler: p.handler,
      functionName: p.name,
      timeoutSeconds: p.timeoutSeconds,
      environment: dataPlaneEnvironment(
        p,
        { bucket: bucketServer, databaseUrl },
        { MEDIA_VIDEO_TRANSFORM_FUNCTION: 'transform-video' },
        { MEDIA_LAMBDA_ENDPOINT: lambda.url },
      ),
    });
  }, 600_000);

  afterAll(async () => {
    await processor?.stop();
    await transform?.stop();
    await lambda?.stop();
    await db?.destroy();
    await bucketServer?.s3.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('reads a phone clip from its presigned GET, PUTs the clean copy and the poster, and answers the probe', async () => {
    const clip = await phoneClip(workDir, 'mp4', 2, '160x120');
    await storage().put('incoming/t/clip', clip, 'video/mp4');
    const urls = {
      source: await storage().presignObject('GET', 'incoming/t/clip', 300),
      clean: await storage().presignObject('PUT', `${SCRATCH_PREFIX}t/clean`, 300),
      poster: await storage().presignObject('PUT', `${SCRATCH_PREFIX}t/poster.png`, 300),
    };
    const answer = VideoTransformAnswer.parse(await transform.invoke({ ...urls, declaredType: 'video/mp4', declaredSize: clip.length }));

    expect(answer).toMatchObject({
      outcome: 'transformed',
      probe: { container: 'mp4', videoCodec: 'h264', audioCodec: 'aac', width: 120, height: 160, rotation: expect.any(Number) },
    });
    if (answer.outcome !== 'transformed') return;
    const clean = await storage().getBytes(`${SCRATCH_PREFIX}t/clean`);
    expect(clean?.length).toBe(answer.cleanSize);
    expect(clean!.includes(LOCATION), 'the clean copy carries the location').toBe(false);
    const poster = await storage().getBytes(`${SCRATCH_PREFIX}t/poster.png`);
    expect(poster?.length).toBe(answer.posterSize);
    expect(poster!.subarray(1, 4).toString('latin1')).toBe('PNG');
  }, 300_000);

  it('answers a photo renamed .mp4 with a rejection and writes nothing', async () => {
    const photo = await makePhoto({ width: 64, height: 48 });
    await storage().put('incoming/t/photo', photo, 'video/mp4');
    const answer = VideoTransformAnswer.parse(
      await transform.invoke({
        source: await storage().presignObject('GET', 'incoming/t/photo', 300),
        clean: await storage().presignObject('PUT', `${SCRATCH_PREFIX}t/photo-clean`, 300),
        poster: await storage().presignObject('PUT', `${SCRATCH_PREFIX}t/photo-poster.png`, 300),
        declaredType: 'video/mp4',
        declaredSize: photo.length,
      }),
    );
    expect(answer).toMatchObject({ outcome: 'rejected', code: expect.stringMatching(/^(CORRUPT_VIDEO|TYPE_MISMATCH)$/) });
    expect(await storage().head(`${SCRATCH_PREFIX}t/photo-clean`)).toBeNull();
  }, 300_000);

  it('refuses an event out of its contract, reading nothing', async () => {
    await expect(transform.invoke({ source: 'file:///etc/passwd' })).rejects.toThrow();
  }, 60_000);

  it('takes a clip from the video queue to ready through the transform: a clean original, poster variants, no scratch left', async () => {
    const id = newMediaId();
    const clip = await phoneClip(workDir, 'mov', 2, '160x120');
    await createPending(db, {
      id,
      tenant,
      purpose: 'general',
      subjectIds: [],
      classroomId: null,
      uploadedBy: 't-1',
      contentType: 'video/quicktime',
      kind: 'video',
      declaredSize: clip.length,
      filename: 'clip.mov',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    });
    await storage().put(incomingKey(tenant, id), clip, 'video/quicktime');
    const batch = await processor.invoke<SQSBatchResponse>({
      Records: [
        {
          messageId: `m-${id}`,
          body: notificationBody({
            eventName: 'ObjectCreated:Forwarded',
            s3: { bucket: { name: bucket }, object: { key: incomingKey(tenant, id), size: clip.length } },
          }),
        },
      ],
    });
    expect(batch).toEqual({ batchItemFailures: [] });

    const row = await new MediaRepository(db).findById(id);
    expect(row).toMatchObject({ status: 'ready', kind: 'video', width: 120, height: 160 });
    const original = await storage().getBytes(row!.originalKey!);
    expect(original!.includes(LOCATION), 'the original carries the location').toBe(false);
    expect(row!.variants.map((v) => v.name)).toEqual(expect.arrayContaining(['thumb', 'small']));
    expect(await storage().listKeys(`${SCRATCH_PREFIX}${tenant}/`)).toEqual([]);
    expect(await storage().head(incomingKey(tenant, id))).toBeNull();
  }, 300_000);
});

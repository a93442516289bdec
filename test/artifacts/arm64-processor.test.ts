import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  arm64EmulationMissing,
  arm64Emulator,
  isolatedCopy,
  QEMU_AARCH64,
  runtimeEnvironment,
  startFunction,
  startInvokeEndpoint,
  synthesizedApp,
  synthesizedFunction,
  type InvokeEndpoint,
  type StartedFunction,
} from '@media/artifacts';
import { newMediaId } from '@media/core';
import { unpackVideoTools } from '@media/imaging';
import { createDatabase, MediaRepository, type Database } from '@media/db';
import { notificationBody } from '@media/local';
import { derivativePrefix, incomingKey } from '@media/storage';
import { REPO_ROOT } from '../../infra/lib/repo';
import { CAPTURED_AT } from '../fixtures/images/camera-metadata';
import { HEIC_SECRETS, iphoneHeic } from '../fixtures/images/heic';
import { near, pixelAt, RED } from '../fixtures/images/pictures';
import { makePhoto } from '../fixtures/photos';
import { LOCATION, phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { createPending } from '../support/media-rows';
import { dataPlaneEnvironment, startLocalBucket, underEmulation, type LocalBucket } from '../support/shipped-functions';

const missing = arm64EmulationMissing();
// CI installs the emulator (.ci/run); elsewhere its absence is said, never silently passed over.
if (missing && process.env.CI) throw new Error(`the arm64 smoke test needs the emulator: ${missing}`);
if (missing) console.warn(`arm64 processor smoke test skipped: ${missing}`);

/**
 * The video function exactly as it deploys (the processor's handler, with sharp's linux-arm64
 * build), and the transform function it invokes (with the archive of Debian's arm64 ffmpeg and
 * ffprobe): each bundle copied alone into an empty folder and run by Node.js for arm64 under
 * qemu's user-mode emulation, the transform reached through Lambda's Invoke API. They take real
 * uploads from the S3 server to ready. Slow (every instruction is emulated): one image, one short clip.
 */
describe.skipIf(!!missing)(`the shipped arm64 processor under emulation${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let workDir: string;
  let bucketServer: LocalBucket;
  let db: Kysely<Database>;
  let processor: StartedFunction;
  let transform: StartedFunction;
  let lambda: InvokeEndpoint;
  /** One line per run of a shipped video tool. */
  let toolCalls: string;
  const bucket = 'media-arm64';
  const tenant = uniqueTenant();

  beforeAll(async () => {
    const databaseUrl = inject('databaseUrl');
    expect(databaseUrl, 'the bundle signs in to PostgreSQL over the network: it needs DATABASE_URL').toBeTruthy();
    workDir = await mkdtemp(join(tmpdir(), 'media-arm64-'));
    const assembly = await synthesizedApp({ repoRoot: REPO_ROOT });
    const fn = synthesizedFunction(assembly, 'process-video');
    expect(fn.architecture).toBe('arm64');
    const { dir } = isolatedCopy(fn, { dir: join(workDir, 'task'), platform: 'as-built' });
    const transformFn = synthesizedFunction(assembly, 'transform-video');
    expect(transformFn.architecture).toBe('arm64');
    const { dir: transformDir } = isolatedCopy(transformFn, { dir: join(workDir, 'transform'), platform: 'as-built' });
    const emulator = arm64Emulator(join(REPO_ROOT, 'node_modules', '.cache', 'media-artifacts'));

    bucketServer = await startLocalBucket(workDir, bucket);
    db = await createDatabase({ url: databaseUrl });
    // The processor is started while the transform's tools unpack and it starts: each emulated
    // start is seconds of module init. The endpoint finds the transform by name when invoked.
    const invokable: Record<string, StartedFunction> = {};
    lambda = await startInvokeEndpoint(invokable);
    const startingProcessor = startFunction({
      dir,
      handler: fn.handler,
      functionName: fn.name,
      ...underEmulation(emulator),
      timeoutSeconds: fn.timeoutSeconds,
      environment: dataPlaneEnvironment(
        fn,
        { bucket: bucketServer, databaseUrl },
        { MEDIA_VIDEO_TRANSFORM_FUNCTION: 'transform-video' },
        { MEDIA_LAMBDA_ENDPOINT: lambda.url },
      ),
    }).then((started) => {
      processor = started;
    });
    startingProcessor.catch(() => {});

    // The shipped ffmpeg and ffprobe for arm64: the archive the template names (/var/task is the
    // copy's folder), unpacked by the function's own code. The emulated transform spawns each
    // through its shipped launcher with qemu put in front of Debian's loader: what binfmt_misc
    // would do, which a container does not offer. Named paths win over the archive.
    expect(fn.environment.MEDIA_VIDEO_TOOLS_ARCHIVE, 'the video function runs no tool').toBeUndefined();
    const archive = transformFn.environment.MEDIA_VIDEO_TOOLS_ARCHIVE;
    expect(archive, "the archive in the transform's environment").toBe('/var/task/video-tools.tar.gz');
    const emulatedTools = (async () => {
      const unpacked = await unpackVideoTools(archive!.replace('/var/task', transformDir), workDir);
      const emulated: Record<string, string> = {};
      toolCalls = join(workDir, 'tool-calls.log');
      for (const [name, tool] of [
        ['MEDIA_FFMPEG_PATH', 'ffmpeg'],
        ['MEDIA_FFPROBE_PATH', 'ffprobe'],
      ] as const) {
        const launcher = await readFile(join(unpacked, tool), 'utf8');
        const wrapper = join(workDir, name.toLowerCase());
        await writeFile(
          wrapper,
          launcher.replace(/^d=.*$/m, `d="${unpacked}"\necho ${name} >> "${toolCalls}"`).replace(/^exec /m, `exec ${QEMU_AARCH64} `),
        );
        await chmod(wrapper, 0o755);
        emulated[name] = wrapper;
      }
      return emulated;
    })();

    // Given nothing but its own template's environment and the tools: no credentials, no bucket.
    try {
      transform = await startFunction({
        dir: transformDir,
        handler: transformFn.handler,
        functionName: transformFn.name,
        ...underEmulation(emulator),
        timeoutSeconds: transformFn.timeoutSeconds,
        environment: runtimeEnvironment(
          transformFn,
          {},
          { AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true', ...(await emulatedTools) },
        ),
      });
    } catch (error) {
      // Stopped by afterAll, not left running.
      await startingProcessor.catch(() => {});
      throw error;
    }
    invokable['transform-video'] = transform;
    await startingProcessor;
  }, 600_000);

  afterAll(async () => {
    await processor?.stop();
    await transform?.stop();
    await lambda?.stop();
    await db?.destroy();
    await bucketServer?.s3.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('loads sharp for arm64, validates a real JPEG and writes its derivatives', async () => {
    const id = newMediaId();
    const photo = await makePhoto({ width: 640, height: 480, orientation: 6 });
    await createPending(db, {
      id,
      tenant,
      purpose: 'profile',
      subjectIds: ['s-1'],
      classroomId: null,
      uploadedBy: 't-1',
      contentType: 'image/jpeg',
      declaredSize: photo.length,
      filename: 'portrait.jpg',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    });
    await storage().put(incomingKey(tenant, id), photo, 'image/jpeg');
    expect(await deliver(id, photo.length)).toEqual({ batchItemFailures: [] });

    const row = await new MediaRepository(db).findById(id);
    expect(row).toMatchObject({ status: 'ready', width: 480, height: 640 });
    expect((await storage().listKeys(derivativePrefix(tenant, id))).length).toBeGreaterThanOrEqual(3);
  }, 600_000);

  it('decodes an iPhone HEIC with the shipped WASM libheif: ready, upright once, its HEIC original without EXIF', async () => {
    const id = newMediaId();
    const photo = await iphoneHeic(300, 400);
    await createPending(db, {
      id,
      tenant,
      purpose: 'profile',
      subjectIds: ['s-1'],
      classroomId: null,
      uploadedBy: 't-1',
      contentType: 'image/heic',
      declaredSize: photo.length,
      filename: 'IMG_0001.HEIC',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    });
    await storage().put(incomingKey(tenant, id), photo, 'image/heic');
    expect(await deliver(id, photo.length)).toEqual({ batchItemFailures: [] });

    const row = await new MediaRepository(db).findById(id);
    expect(row).toMatchObject({ status: 'ready', contentType: 'image/heic', width: 300, height: 400, capturedAt: CAPTURED_AT });
    const original = await storage().getBytes(row!.originalKey!);
    for (const secret of HEIC_SECRETS) expect(original!.includes(secret), `the original contains "${secret}"`).toBe(false);
    const small = row!.variants.find((v) => v.name === 'small')!;
    const bytes = (await storage().getBytes(small.key))!;
    expect(near((await pixelAt(bytes, 3, 3)).rgb, RED), 'red top-left: upright once').toBe(true);
  }, 600_000);

  it('runs the shipped arm64 ffprobe and ffmpeg in the transform: a phone clip ends ready, its original without the location, with poster variants', async () => {
    const id = newMediaId();
    const clip = await phoneClip(workDir, 'mp4', 2, '160x120');
    expect(clip.includes(LOCATION), 'the upload carries the location').toBe(true);
    await createPending(db, {
      id,
      tenant,
      purpose: 'general',
      subjectIds: [],
      classroomId: null,
      uploadedBy: 't-1',
      contentType: 'video/mp4',
      kind: 'video',
      declaredSize: clip.length,
      filename: 'clip.mp4',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    });
    await storage().put(incomingKey(tenant, id), clip, 'video/mp4');
    expect(await deliver(id, clip.length)).toEqual({ batchItemFailures: [] });

    const row = await new MediaRepository(db).findById(id);
    expect(row).toMatchObject({ status: 'ready', kind: 'video', width: 120, height: 160 });
    const original = await storage().getBytes(row!.originalKey!);
    for (const secret of [LOCATION, 'iPhone', 'school gate'])
      expect(original!.includes(secret), `the original contains "${secret}"`).toBe(false);
    expect(row!.variants.map((v) => v.name)).toEqual(expect.arrayContaining(['thumb', 'small', 'medium']));
    // The shipped tools did the work, not whatever ffmpeg the machine has.
    const calls = (await readFile(toolCalls, 'utf8')).trim().split('\n');
    expect(new Set(calls)).toEqual(new Set(['MEDIA_FFPROBE_PATH', 'MEDIA_FFMPEG_PATH']));
  }, 600_000);

  const storage = () => bucketServer.storage();
  /** The S3 event of an upload, through SQS, as the event source mapping hands it over. */
  const deliver = (id: string, size: number) =>
    processor.invoke<SQSBatchResponse>({
      Records: [
        {
          messageId: `m-${id}`,
          body: notificationBody({
            eventName: 'ObjectCreated:Post',
            s3: { bucket: { name: bucket }, object: { key: incomingKey(tenant, id), size } },
          }),
        },
      ],
    });
});

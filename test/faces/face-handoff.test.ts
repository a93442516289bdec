import '../pipeline/support/quiet';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as processUpload } from '@media/functions/process-upload';
import type { FaceJob, FaceQueue } from '@media/service/processing';
import { makePhoto } from '../fixtures/photos';
import { phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliverUntilAcknowledged, s3Record } from '../pipeline/support/deliveries';
import { upload } from '../pipeline/support/uploads';

/**
 * The processing tail hands every item it makes ready to the face stage, a photo and a video (by
 * its poster) alike, once its `ready` is committed and announced; a queue that fails costs the
 * item its faces (the sweeper sends them later), never its readiness.
 */
describe('the hand-off to the face stage', () => {
  let stack: TestStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.pump.stop();
    dir = await mkdtemp(join(tmpdir(), 'face-handoff-'));
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Processes one upload in place (no video queue) with this face queue; how many receives it took. */
  async function process(key: string, faceQueue: FaceQueue): Promise<number> {
    const handler = processUpload.withDependencies({ ...stack.deps, videoQueue: undefined, faceQueue });
    return deliverUntilAcknowledged(() => handler, s3Record(stack.bucket, key));
  }

  /** A face queue that records each job with whether its item's event was already sent. */
  function recordingQueue(): FaceQueue & { jobs: (FaceJob & { announced: boolean })[] } {
    const jobs: (FaceJob & { announced: boolean })[] = [];
    return {
      jobs,
      async enqueue(job) {
        const row = await stack.deps.media.findById(job.mediaId);
        jobs.push({ ...job, announced: row?.status === 'ready' && row.eventPublishedAt instanceof Date });
      },
    };
  }

  it('hands a ready photo over once, after its event', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const { mediaId, key } = await upload(stack, token, await makePhoto({ width: 800, height: 600 }));
    const queue = recordingQueue();
    await process(key, queue);
    expect(queue.jobs).toEqual([{ tenant, mediaId, announced: true }]);
  });

  it('hands a ready video over once, after its event, for its poster', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const clip = await phoneClip(dir, 'mp4', 1);
    const { mediaId, key } = await upload(stack, token, clip, { purpose: 'general', contentType: 'video/mp4' });
    const queue = recordingQueue();
    await process(key, queue);
    expect((await stack.deps.media.findById(mediaId))?.variants.some((v) => v.name === 'medium')).toBe(true);
    expect(queue.jobs).toEqual([{ tenant, mediaId, announced: true }]);
  });

  it('leaves a photo ready and its message acknowledged when the face queue fails', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const { mediaId, key } = await upload(stack, token, await makePhoto({ width: 800, height: 600 }));
    const receives = await process(key, {
      enqueue: async () => {
        throw new Error('the face queue is unreachable');
      },
    });
    expect(receives).toBe(1);
    expect(await stack.deps.media.findById(mediaId)).toMatchObject({ status: 'ready' });
  });
});

import type { FaceRepository } from '@media/db';
import type { SqsSender } from './sqs-sender';

/** A ready item the face stage should look at (docs/imaging.md § Faces). */
export interface FaceJob {
  tenant: string;
  mediaId: string;
}

/**
 * Where ready images and posters wait for the face stage: a queue of its own, so detection (a
 * second or so per photo, and half a gigabyte) never delays `ready` nor holds up an upload.
 */
export interface FaceQueue {
  enqueue(job: FaceJob): Promise<void>;
}

export class SqsFaceQueue implements FaceQueue {
  constructor(private readonly queue: SqsSender) {}

  async enqueue(job: FaceJob): Promise<void> {
    await this.queue.send({ kind: 'faces', tenant: job.tenant, mediaId: job.mediaId });
  }
}

/**
 * Hands a ready item to the face stage, after its `ready` is committed and announced. A failure
 * here costs the item its faces, never its readiness (the upload's message is not failed for it:
 * its redelivery would find the item ready and stop): the sweeper sends what is owed
 * (`resendFaceJobs`).
 */
export async function handToFaceStage(queue: FaceQueue | undefined, job: FaceJob): Promise<boolean> {
  if (!queue) return false;
  try {
    await queue.enqueue(job);
    return true;
  } catch {
    return false;
  }
}

/** A face job as it arrives from the queue, or null for anything else (hostile or stale bodies are dropped). */
export function parseFaceJob(body: string): FaceJob | null {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null) return null;
    const { kind, tenant, mediaId } = value as Record<string, unknown>;
    if (kind !== 'faces' || typeof tenant !== 'string' || typeof mediaId !== 'string') return null;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(mediaId) || tenant.length === 0 || tenant.length > 128)
      return null;
    return { tenant, mediaId };
  } catch {
    return null;
  }
}

/** A face job not picked up this long is sent again by the sweeper. */
export const FACE_JOB_IDLE_SECONDS = 15 * 60;

/**
 * The sweeper's part: sends the face jobs that were never sent or got lost, oldest first, at most
 * `limit` a run (so media older than the stage is taken up a run at a time). Gives the number sent.
 */
export async function resendFaceJobs(
  deps: { faces: Pick<FaceRepository, 'takeOwed'>; faceQueue: FaceQueue },
  limit: number,
  idleSeconds = FACE_JOB_IDLE_SECONDS,
): Promise<number> {
  const owed = await deps.faces.takeOwed(limit, idleSeconds);
  for (const job of owed) await deps.faceQueue.enqueue(job);
  return owed.length;
}

import type { RightsJobRow } from '@media/db';
import { incomingKey } from '@media/storage';
import { announceLate } from './announcements';
import { resendFaceJobs } from './face-queue';
import type { Dependencies } from './dependencies';
import { purgeObjects } from './item-lifecycle';
import { runErasure } from './rights-service';
import { runExport } from './subject-export';
import { processUploadedObject, RetryLater } from './upload-processor';

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events' | 'config' | 'rights' | 'audit'> &
  Partial<Pick<Dependencies, 'edge' | 'videoQueue' | 'faces' | 'faceQueue'>>;

export interface SweepReport {
  /** Pending uploads that never arrived, now `expired`. */
  expired: number;
  /** Stalled uploads whose object was there after all, processed now (ready or rejected). */
  processed: number;
  /** Stalled uploads handed back or left for a later run (object missing, or someone else on it). */
  released: number;
  /** Stalled videos handed to the video function's queue. */
  forwarded: number;
  /** Events sent for state changes whose worker stopped before sending them. */
  announced: number;
  /** Deleted items whose objects are now gone for good (purge recorded). */
  purged: number;
  /** Erasures and exports advanced (a batch at least each). */
  rightsJobs: number;
  /** Items that failed this time (S3 or the database); the next run tries them again. */
  failed: number;
  /** Ready items sent to the face stage again, or for the first time (where a face queue is configured). */
  faceJobs?: number;
}

/**
 * A new erasure or export is started by its request's message (rights-job-queue.ts); one left
 * untouched this long was interrupted (a worker that died, a message lost) and the sweeper resumes it.
 */
export const RIGHTS_JOB_IDLE_SECONDS = 60;

export interface SweepOptions {
  /** Rows looked at per kind of work and run, so one run stays inside a function's time limit. */
  limit?: number;
  /**
   * Milliseconds the run may spend on stalled uploads; the rest wait for the next run. Rights
   * jobs and owed events come first anyway: this keeps the purges from waiting behind them too.
   */
  stalledBudgetMs?: number;
  /** Resume rights jobs untouched this long (default RIGHTS_JOB_IDLE_SECONDS). */
  rightsJobIdleSeconds?: number;
  onFailure?: (work: string, mediaId: string, error: unknown) => void;
}

/**
 * Finishes what the event path left behind. Every step is a conditional state change or an
 * idempotent delete, so runs may overlap each other, the processor and the API:
 * - interrupted erasures and exports resume (a bounded number of batches per run), first; new
 *   ones are their message's (`runRightsJob`);
 * - finished rows that still owe their event get it sent, once;
 * - stalled uploads (pending past POST expiry + grace, or processing with a lapsed lease), within
 *   a time budget: if the object is there it is processed (a late arrival or a lost event; a video
 *   goes to the video function's queue), otherwise a pending row becomes `expired` and anything
 *   that arrives after that is deleted;
 * - deleted items whose objects may remain are purged until they are gone and no worker that held
 *   them can write again (never one under legal hold).
 */
export async function sweep(deps: Deps, options: SweepOptions = {}): Promise<SweepReport> {
  const limit = options.limit ?? 100;
  const grace = deps.config.processing.pendingGraceSeconds;
  const stalledBudgetMs = options.stalledBudgetMs ?? 5 * 60_000;
  const report: SweepReport = { expired: 0, processed: 0, released: 0, forwarded: 0, announced: 0, purged: 0, rightsJobs: 0, failed: 0 };
  const attempt = async (work: string, mediaId: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      if (error instanceof RetryLater) {
        report.released += 1;
        return;
      }
      report.failed += 1;
      options.onFailure?.(work, mediaId, error);
    }
  };

  // Rights jobs first: a person's erasure never waits behind an upload, however hard (videos are
  // only forwarded here, a photo is bounded), and before the purges, so the items they tombstone
  // are purged by this same run.
  // New ones are their message's (runRightsJob); this resumes the interrupted.
  for (const job of await deps.rights.listInterrupted(5, options.rightsJobIdleSeconds ?? RIGHTS_JOB_IDLE_SECONDS)) {
    await attempt(job.kind, job.id, async () => {
      if (await runRightsJob(deps, job, { maxBatches: 20 })) report.rightsJobs += 1;
    });
  }

  for (const row of await deps.media.listUnannounced(limit)) {
    await attempt('announce', row.id, async () => {
      if (await announceLate(deps, row.id)) report.announced += 1;
    });
  }

  const stalledUntil = Date.now() + stalledBudgetMs;
  for (const row of await deps.media.listStalled(grace, limit)) {
    if (Date.now() > stalledUntil) break;
    await attempt('stalled', row.id, async () => {
      const key = incomingKey(row.tenant, row.id);
      if (row.status === 'pending' && !(await deps.storage.head(key))) {
        if (await deps.media.expirePending(row.id, grace)) {
          // An abandoned multipart upload: its parts go now (the bucket's lifecycle rule is the backstop).
          if (row.multipartUploadId) await deps.storage.abortMultipartUpload(key, row.multipartUploadId);
          // The POST had expired: an object arriving from now on is orphaned, and goes.
          await deps.storage.deleteMany([key]);
          report.expired += 1;
        }
        return;
      }
      const result = await processUploadedObject(deps, { bucket: deps.config.bucket, key });
      if (result.outcome === 'ignored') report.released += 1;
      else if (result.outcome === 'forwarded') report.forwarded += 1;
      else report.processed += 1;
    });
  }

  for (const row of await deps.media.listUnpurged(limit)) {
    await attempt('purge', row.id, async () => {
      // Every object goes on every run; the purge is recorded once no worker can write any more.
      if (await purgeObjects(deps, row)) report.purged += 1;
    });
  }

  if (deps.faces && deps.faceQueue) {
    const { faces, faceQueue } = deps;
    await attempt('faces', '', async () => {
      report.faceJobs = await resendFaceJobs({ faces, faceQueue }, limit);
    });
  }
  return report;
}

/**
 * One erasure or export, as its worker runs it when the request's message arrives (or the sweeper
 * when it resumes one). Undefined: no such job, or someone else holds it.
 */
export async function runRightsJob(
  deps: Deps,
  job: string | RightsJobRow,
  options: { maxBatches?: number } = {},
): Promise<RightsJobRow | undefined> {
  const row = typeof job === 'string' ? await deps.rights.findJobById(job) : job;
  if (!row) return undefined;
  return row.kind === 'erasure' ? runErasure(deps, row.id, options) : runExport(deps, row.id);
}

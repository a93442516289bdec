import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { jobIdOf, runRetention } from '@media/service';
import { runRightsJob, sweep, type SweepReport } from '@media/service/processing';
import { combinedExtras, dependenciesFromEnvironment, resolveDependencies, type DependencySource } from '../shared/cold-start';
import { edgeInvalidation } from '../shared/edge-invalidation';
import { messaging } from '../shared/messaging';
import { logger, metrics } from '../shared/observability';

/**
 * The daily schedule sends `{ task: 'retention' }`; the rights-jobs queue sends an SQS batch (a new
 * erasure or export each); every other invocation is a sweep.
 */
export type SweeperEvent = ScheduledEvent | { task?: 'retention' } | Record<string, never> | SQSEvent;
export interface RetentionReport {
  expired: number;
  auditPruned: number;
}
export type SweeperHandler = (event: SweeperEvent, context: Context) => Promise<SweepReport | RetentionReport | SQSBatchResponse>;

/** Batches of erasure a message runs before handing the rest to a message of its own (inside the time limit). */
const ERASURE_BATCHES_PER_MESSAGE = 50;

const METRICS: Record<keyof SweepReport, string> = {
  expired: 'UploadsExpired',
  processed: 'StalledUploadsProcessed',
  released: 'StalledUploadsReleased',
  forwarded: 'StalledVideosForwarded',
  announced: 'LateEventsSent',
  purged: 'DeletedItemsPurged',
  rightsJobs: 'RightsJobsAdvanced',
  failed: 'SweepFailures',
  faceJobs: 'FaceJobsSent',
};

/**
 * Runs on a schedule: finishes what the event path left behind (expired uploads, late arrivals,
 * lapsed leases, unsent events, objects of deleted items) and advances erasures and exports; once
 * a day, with `{ task: 'retention' }`, deletes what outlived its purpose's retention. A failed item is logged and tried again
 * by the next run; the run itself does not fail for it.
 */
function build(source: DependencySource): SweeperHandler {
  const core = async (event: SweeperEvent): Promise<SweepReport | RetentionReport | SQSBatchResponse> => {
    const deps = await resolveDependencies(source);
    if (event && 'Records' in event) {
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const jobId = jobIdOf(record.body);
        if (!jobId) {
          logger.warn('rights-jobs message without a job id; dropped', { messageId: record.messageId });
          continue;
        }
        try {
          const job = await runRightsJob(deps, jobId, { maxBatches: ERASURE_BATCHES_PER_MESSAGE });
          // A long erasure carries on in a message of its own rather than run into the time limit.
          if (job?.status === 'running' && job.kind === 'erasure') await deps.rightsJobs.announce(job.id);
          logger.info('rights job advanced', { jobId, kind: job?.kind, status: job?.status ?? 'held elsewhere' });
        } catch (error) {
          logger.error('rights job failed; its message comes back', { jobId, error: error as Error });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    }
    if (event && 'task' in event && event.task === 'retention') {
      // Media past their purpose's retention are tombstoned here; the next sweeps announce and purge them.
      const retention = await runRetention(deps);
      metrics.addMetric('RetentionExpired', MetricUnit.Count, retention.expired);
      metrics.addMetric('AuditRowsPruned', MetricUnit.Count, retention.auditPruned);
      logger.info('retention run finished', { ...retention });
      return retention;
    }
    const report = await sweep(deps, {
      onFailure: (work, mediaId, error) =>
        logger.error('sweep step failed; the next run retries it', { work, mediaId, error: error as Error }),
    });
    for (const [name, count] of Object.entries(report) as [keyof SweepReport, number][]) {
      metrics.addMetric(METRICS[name], MetricUnit.Count, count);
    }
    logger.info('sweep finished', { ...report });
    return report;
  };
  return middy(core)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics)) as unknown as SweeperHandler;
}

export const handler = Object.assign(build(dependenciesFromEnvironment(combinedExtras(edgeInvalidation, messaging))), {
  withDependencies: build,
});

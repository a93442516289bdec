import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Dependencies } from '@media/service';
import { FaceStageBusy, faceModelFiles, parseFaceJob, runFaceStage } from '@media/service/faces';
import { dependenciesFromEnvironment, resolveDependencies, type DependencySource } from '../shared/cold-start';
import { messaging } from '../shared/messaging';
import { logger, metrics } from '../shared/observability';

export type DetectFacesHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** One face job: the stage's outcome is logged; a transient failure (or a lease held elsewhere) fails the record. */
async function detectRecord(deps: Dependencies, record: SQSRecord): Promise<void> {
  const job = parseFaceJob(record.body);
  if (!job) {
    logger.warn('message ignored', { messageId: record.messageId, reason: 'not-a-face-job' });
    metrics.addMetric('IgnoredMessages', MetricUnit.Count, 1);
    return;
  }
  const started = performance.now();
  try {
    const result = await runFaceStage(deps, job, faceModelFiles(deps.config));
    logger.info(`faces ${result.outcome}`, { messageId: record.messageId, ...result, ms: Math.round(performance.now() - started) });
    metrics.addMetric(
      result.outcome === 'done' ? 'FacesDetected' : result.outcome === 'failed' ? 'FacesFailed' : 'IgnoredRecords',
      MetricUnit.Count,
      1,
    );
  } catch (error) {
    if (error instanceof FaceStageBusy)
      logger.info('faces busy elsewhere; will retry', { messageId: record.messageId, mediaId: job.mediaId });
    else logger.error('face stage failed; will retry', { messageId: record.messageId, mediaId: job.mediaId, error: error as Error });
    throw error;
  }
}

/**
 * The face stage (docs/imaging.md § Faces), fed by the face queue: jobs one after another, each
 * failure reported in `batchItemFailures` so SQS retries only it. The models load once per
 * container, on the first job.
 */
function build(source: DependencySource): DetectFacesHandler {
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deps: Dependencies = await resolveDependencies(source);
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, (record: SQSRecord) => detectRecord(deps, record), processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  };
  return middy(core)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics)) as unknown as DetectFacesHandler;
}

export const handler = Object.assign(build(dependenciesFromEnvironment(messaging)), { withDependencies: build });

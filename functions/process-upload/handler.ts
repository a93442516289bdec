import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Dependencies } from '@media/service';
import { parseS3Message, processUploadedObject, RetryLater, type ProcessOutcome } from '@media/service/processing';
import { combinedExtras, dependenciesFromEnvironment, resolveDependencies, type DependencySource } from '../shared/cold-start';
import { edgeInvalidation } from '../shared/edge-invalidation';
import { messaging } from '../shared/messaging';
import { logger, metrics } from '../shared/observability';
import { videoTransform } from '../shared/video-transform';

const OUTCOME_METRICS: Record<ProcessOutcome['outcome'], string> = {
  ready: 'UploadsReady',
  rejected: 'UploadsRejected',
  ignored: 'IgnoredRecords',
  forwarded: 'VideosForwarded',
};

export type ProcessUploadHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** One S3 notification: every object it names, in order; the first failure fails the record. */
async function processRecord(deps: Dependencies, record: SQSRecord): Promise<void> {
  const content = parseS3Message(record.body);
  if (content.kind === 'ignored') {
    logger.warn('message ignored', { messageId: record.messageId, reason: content.reason });
    metrics.addMetric('IgnoredMessages', MetricUnit.Count, 1);
    return;
  }
  for (const skipped of content.skipped) {
    logger.warn('record ignored', { messageId: record.messageId, ...skipped });
    metrics.addMetric('IgnoredRecords', MetricUnit.Count, 1);
  }
  for (const object of content.created) {
    const started = performance.now();
    try {
      const result = await processUploadedObject(deps, object);
      const mediaId = 'mediaId' in result ? result.mediaId : undefined;
      logger.info(`upload ${result.outcome}`, {
        messageId: record.messageId,
        mediaId,
        ...result,
        ms: Math.round(performance.now() - started),
      });
      metrics.addMetric(OUTCOME_METRICS[result.outcome], MetricUnit.Count, 1);
      if (result.outcome === 'ready') metrics.addMetric('ProcessingTime', MetricUnit.Milliseconds, performance.now() - started);
    } catch (error) {
      if (error instanceof RetryLater) {
        // Another delivery holds the lease: not a failure, only not this delivery's turn.
        logger.info('upload busy elsewhere; will retry', { messageId: record.messageId, key: object.key, reason: error.message });
        metrics.addMetric('RetriedWhileLeased', MetricUnit.Count, 1);
      } else {
        logger.error('upload processing failed; will retry', { messageId: record.messageId, key: object.key, error: error as Error });
        metrics.addMetric('ProcessingFailures', MetricUnit.Count, 1);
      }
      throw error;
    }
  }
}

/**
 * S3 ObjectCreated notifications, through SQS, in batches, through Powertools' batch processor: a
 * record whose processing failed for a transient reason is reported in `batchItemFailures`, so only
 * it is retried (and after five receives it rests in the DLQ). Bad bytes are an outcome, not a
 * failure: never retried. Records run one after another, so one invocation decodes one image at a
 * time (libvips already uses every core it is given).
 */
function build(source: DependencySource): ProcessUploadHandler {
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deps: Dependencies = await resolveDependencies(source);
    metrics.addMetric('MessagesReceived', MetricUnit.Count, event.Records.length);
    // A fresh processor per invocation: the local stack runs several invocations in one process.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, (record: SQSRecord) => processRecord(deps, record), processor, {
      context,
      processInParallel: false,
      // A batch that failed whole is still answered item by item, so SQS retries exactly those.
      throwOnFullBatchFailure: false,
    });
  };
  return middy(core)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics)) as unknown as ProcessUploadHandler;
}

// The video function (this bundle with MEDIA_VIDEO_TRANSFORM_FUNCTION set) also builds its transformer.
const extras = combinedExtras(edgeInvalidation, messaging, videoTransform);

export const handler = Object.assign(build(dependenciesFromEnvironment(extras)), { withDependencies: build });

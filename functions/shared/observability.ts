import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mapStacksOfBundle } from './source-mapped-stacks';

// In a bundle this module's URL is a file of the bundle (index.mjs or a chunk), with its source map beside it.
mapStacksOfBundle(import.meta.url);

/** One logger and one metrics sink per process; Powertools reads its service name from the env. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'media-service' });
/**
 * Metrics' own warnings go through the logger. One is dropped: in the local stack many invocations
 * share one process and one metrics object, so one invocation may flush another's metrics and the
 * second then finds none to publish; in Lambda (one invocation at a time) it cannot happen.
 */
const metricsLogger = {
  debug: (message: string, ...rest: unknown[]) => logger.debug(message, ...(rest as [])),
  info: (message: string, ...rest: unknown[]) => logger.info(message, ...(rest as [])),
  warn: (message: string, ...rest: unknown[]) => {
    if (!message.startsWith('No application metrics to publish')) logger.warn(message, ...(rest as []));
  },
  error: (message: string, ...rest: unknown[]) => logger.error(message, ...(rest as [])),
};

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'MediaService',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'media-service',
  logger: metricsLogger,
});

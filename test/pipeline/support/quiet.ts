import { logger } from '../../../functions/shared/observability';

/** Retries and injected faults log errors by design; these tests assert on state, not on log lines. */
export const quietLogs = () => logger.setLogLevel('SILENT');

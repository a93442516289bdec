// Retries and injected faults log errors by design; these tests assert on state, not on log lines.
// Imported first by a test file, before the handlers create their logger from the environment.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

// Tests assert on behaviour, not on log lines: keep Powertools quiet unless asked.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

export {};

const env = process.env;
// Local runs print warnings and errors, not every request or EMF metrics blobs. Set before the
// handlers load: Powertools reads its environment when the logger and metrics are created.
env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// MEDIA_LOG_LEVEL: debug (the handlers' own logs too), info (a line per upload state change, the default), warn, error.
const logLevel = (env.MEDIA_LOG_LEVEL ?? 'info').toLowerCase();
if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
  console.error(`MEDIA_LOG_LEVEL must be debug, info, warn or error, not ${env.MEDIA_LOG_LEVEL}.`);
  process.exit(2);
}
env.POWERTOOLS_LOG_LEVEL ??= logLevel === 'debug' ? 'DEBUG' : 'WARN';

// Before anything loads or starts: a busy port is one sentence and exit 1, at once.
const { busyPortSentence, stackPorts } = await import('../stack-ports');
const ports = stackPorts(env);
const host = env.MEDIA_HOST ?? '127.0.0.1';
const busy = await busyPortSentence(host, [ports.api, ports.s3, ports.sqs]);
if (busy) {
  console.error(busy);
  process.exit(1);
}

const { DEFAULT_LOCAL_SECRET } = await import('../dev-token');
const { startLocalStack } = await import('../local-stack');
const { DEFAULT_DATA_DIR, isEmbeddedDatabaseInUse } = await import('@media/db');
const { endpointList } = await import('../endpoint-list');
const STACK_OWNED =
  /^MEDIA_(BUCKET|S3_.*|SQS_.*|EVENTS_QUEUE_URL|PGLITE_DIR|DATA_DIR|HOST|.*_PORT|LOCAL_ARTIFACTS|FACES|LOG_LEVEL|SWEEP_INTERVAL_SECONDS|ALLOWED_ORIGINS|JWT_(SECRET|ISSUER|AUDIENCE|JWKS_URL)|DB_IAM_AUTH)$/;
if (!env.MEDIA_JWT_SECRET) {
  console.warn(`warning: tokens are signed with the default local secret "${DEFAULT_LOCAL_SECRET}"; set MEDIA_JWT_SECRET to change it.`);
}

// The face stage runs unless turned off (it loads face-api and takes a second or so per photo).
const faces = !['off', '0', 'false'].includes((env.MEDIA_FACES ?? '').toLowerCase());

const stack = await startLocalStack({
  dataDir: env.MEDIA_DATA_DIR || DEFAULT_DATA_DIR,
  // PGlite under the data directory unless a PostgreSQL is named.
  databaseUrl: env.DATABASE_URL || undefined,
  // Parity mode: the bundles a deploy ships, instead of the TypeScript sources.
  artifacts: env.MEDIA_LOCAL_ARTIFACTS === '1' || env.MEDIA_LOCAL_ARTIFACTS === 'true',
  faces,
  sweepEverySeconds: env.MEDIA_SWEEP_INTERVAL_SECONDS === undefined ? undefined : Number(env.MEDIA_SWEEP_INTERVAL_SECONDS),
  // Every limit, lease, quota, retention and size of the service, as the Lambdas read them; the
  // stack's own wiring (endpoints, bucket, queues, database, ports, tokens) stays its own.
  env: Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[0].startsWith('MEDIA_') && !STACK_OWNED.test(entry[0]),
    ),
  ),
  host,
  port: ports.api.port,
  s3Port: ports.s3.port,
  sqsPort: ports.sqs.port,
  jwtSecret: env.MEDIA_JWT_SECRET,
  jwtIssuer: env.MEDIA_JWT_ISSUER,
  jwtAudience: env.MEDIA_JWT_AUDIENCE,
  allowedOrigins: env.MEDIA_ALLOWED_ORIGINS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  log: (line) => console.error(line),
  logUploads: logLevel === 'debug' || logLevel === 'info' ? (line) => console.log(line) : undefined,
}).catch((error: unknown) => {
  if (!isEmbeddedDatabaseInUse(error)) throw error;
  console.error(error.message);
  process.exit(1);
});

console.log(`
media service (local stack) is up${stack.functionsMode === 'artifacts' ? ', running the synthesized bundles (parity mode)' : ''}
  API          ${stack.apiUrl}/v1          (health: ${stack.apiUrl}/health, contract: ${stack.apiUrl}/openapi.json)
  upload page  ${stack.apiUrl}/
  rights page  ${stack.apiUrl}/rights  (a person's consent, export, erasure)
  S3 (s3rver)  ${stack.s3Endpoint}   bucket ${stack.bucket}, access key S3RVER / S3RVER
  SQS+SNS (fauxqs) ${stack.sqsEndpoint}   queues media-ingest, media-ingest-dlq, media-faces${faces ? '' : ' (face stage off)'}; events topic media-events → ${Object.keys(
    stack.queues.consumers,
  )
    .map((consumer) => `media-events-${consumer}`)
    .join(', ')} (each with its -dlq)
  data         ${env.MEDIA_DATA_DIR || DEFAULT_DATA_DIR}/ (PGlite database and S3 objects; survives restarts)

mint a token:
  npm run token -- --role teacher --tenant school-1 --sub t-1 --classrooms c-1

endpoints (docs/openapi.json):
${endpointList()}
Ctrl-C stops it.`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlOf, redriveMessages } from '../redrive';
import { LOCAL_S3_CREDENTIALS } from '../s3-server';
import { QUEUE_NAMES } from '../sqs-server';

const env = process.env;
const { values } = parseArgs({
  options: {
    from: { type: 'string', default: env.MEDIA_INGEST_DLQ_URL ?? QUEUE_NAMES.ingestDlq },
    to: { type: 'string', default: env.MEDIA_INGEST_QUEUE_URL ?? QUEUE_NAMES.ingest },
    endpoint: { type: 'string', default: env.MEDIA_SQS_ENDPOINT },
    region: { type: 'string', default: env.AWS_REGION },
    max: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`npm run redrive                                      moves the local stack's DLQ back to its ingest queue
npm run redrive -- --from <DLQ url> --to <queue url>   the same in AWS (credentials from the usual AWS chain)
options: --endpoint <SQS endpoint> --region <region> --max <n>
env: MEDIA_INGEST_DLQ_URL, MEDIA_INGEST_QUEUE_URL, MEDIA_SQS_ENDPOINT, AWS_REGION`);
  process.exit(0);
}

const awsQueue = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//;
const inAws = awsQueue.test(values.from) && awsQueue.test(values.to);
// Queue names without an endpoint mean the local stack on its default ports.
const endpoint = values.endpoint ?? (inAws ? undefined : `http://127.0.0.1:${env.MEDIA_SQS_PORT ?? Number(env.PORT ?? 3000) + 2}`);
const region = values.region ?? awsQueue.exec(values.from)?.[1] ?? 'us-east-1';
const sqs = new SQSClient({
  region,
  endpoint,
  // The local SQS server takes any key; AWS uses the caller's own credentials.
  credentials: endpoint && !env.AWS_ACCESS_KEY_ID ? LOCAL_S3_CREDENTIALS : undefined,
});

try {
  const from = await queueUrlOf(sqs, values.from);
  const to = await queueUrlOf(sqs, values.to);
  const { moved, failed } = await redriveMessages(sqs, { from, to, max: values.max ? Number(values.max) : undefined });
  console.log(`moved ${moved} message(s) from ${from} to ${to}`);
  if (failed > 0) {
    console.error(`${failed} message(s) were refused by ${to} and stay in ${from}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`redrive failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}

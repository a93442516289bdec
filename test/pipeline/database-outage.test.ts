import './support/quiet';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventPump, type BatchHandler } from '@media/local';
import { createDependencies, type Dependencies } from '@media/service';
import { handler as processUpload } from '@media/functions/process-upload';
import { makePhoto } from '../fixtures/photos';
import { postgresUrl, uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog, queueDepth } from './support/event-log';
import { transientError, withFaults } from './support/fault-injection';
import { TcpProxy } from './support/tcp-proxy';
import { objectsOf, upload } from './support/uploads';

const until = async (what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 45_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** The processor as the event source mapping calls it, counting what it reported as failed per message body. */
function countingHandler(deps: Dependencies) {
  const inner = processUpload.withDependencies(deps);
  const failures = new Map<string, number>();
  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const response = await inner(event, context);
    for (const { itemIdentifier } of response.batchItemFailures) {
      const body = event.Records.find((r) => r.messageId === itemIdentifier)!.body;
      failures.set(body, (failures.get(body) ?? 0) + 1);
    }
    return response;
  };
  return { handler, failuresFor: (key: string) => [...failures].filter(([body]) => body.includes(key)).reduce((n, [, c]) => n + c, 0) };
}

describe('the database goes away for a while', () => {
  let stack: TestStack;
  let events: QueueLog;
  let proxy: TcpProxy;
  let pump: EventPump | undefined;
  let processorDeps: Dependencies | undefined;

  beforeAll(async () => {
    stack = await startTestStack();
    // This test runs the processor itself, with dependencies of its own.
    await stack.pump.stop();
    events = new QueueLog(stack.sqs, stack.queues.events);
  });
  afterEach(async () => {
    await pump?.stop();
    await processorDeps?.db.destroy();
    await proxy?.down();
  });
  afterAll(() => stack?.close());

  /** The event source mapping, with its back-off: a failed record is received again after `retryBaseSeconds · 2^(n-1)`. */
  const startProcessor = (handler: BatchHandler, retryBaseSeconds: number) => {
    pump = new EventPump({
      sqs: stack.sqs,
      queueUrl: stack.queues.ingest,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-ingest',
      handler,
      retryBaseSeconds,
    });
    pump.start();
  };

  it('fails the records of a batch while PostgreSQL is unreachable, and processes them once it is back', async () => {
    const databaseUrl = postgresUrl();
    const target = new URL(databaseUrl);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).up();
    const viaProxy = new URL(databaseUrl);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    // A function's own dependency bag: its pool reaches PostgreSQL through the proxy.
    processorDeps = await createDependencies(
      { ...stack.config, database: { ...stack.config.database, url: viaProxy.toString() } },
      { storage: stack.deps.storage, events: stack.deps.events },
    );
    const { handler, failuresFor } = countingHandler(processorDeps);
    startProcessor(handler, 1);

    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const photo = await makePhoto({ width: 640, height: 480 });
    // One upload while all is well, so the pool holds live connections when they are cut.
    const warm = await upload(stack, token, photo);
    await until('the first upload is ready', async () => (await stack.deps.media.findById(warm.mediaId))?.status === 'ready');

    await proxy.down();
    const uploads: { mediaId: string; key: string }[] = [];
    for (let i = 0; i < 3; i++) uploads.push(await upload(stack, token, photo));
    await until('every record failed twice', () => uploads.every((u) => failuresFor(u.key) >= 2));
    for (const u of uploads) expect((await stack.deps.media.findById(u.mediaId))?.status).toBe('pending');

    await proxy.up();
    await until('every upload is ready', async () => {
      const rows = await Promise.all(uploads.map((u) => stack.deps.media.findById(u.mediaId)));
      return rows.every((r) => r?.status === 'ready' && r.eventPublishedAt !== null);
    });
    for (const u of uploads) {
      expect((await events.eventsFor(u.mediaId)).map((e) => e.type)).toEqual(['media.ready']);
      expect(failuresFor(u.key)).toBeLessThan(5);
    }
    expect(await queueDepth(stack.sqs, stack.queues.ingestDlq)).toBe(0);
  });

  it('rests a record that fails five receives in the DLQ with its object and a claimable row, and npm run redrive brings it home', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const photo = await makePhoto({ width: 640, height: 480 });
    // S3 throttles every read of this tenant's uploads, for as long as `throttling` holds.
    let throttling = true;
    const flaky = withFaults(stack.deps, (call, phase) =>
      throttling && phase === 'before' && call.label === 'storage.getBytes incoming' ? transientError(call) : undefined,
    );
    const { handler, failuresFor } = countingHandler(flaky);
    startProcessor(handler, 0);

    const { mediaId, key } = await upload(stack, token, photo);
    await until('the record is in the DLQ', async () => (await queueDepth(stack.sqs, stack.queues.ingestDlq)) === 1);
    expect(failuresFor(key)).toBe(5);
    expect(await stack.deps.media.findById(mediaId)).toMatchObject({
      status: 'pending',
      leaseExpiresAt: null,
      leaseOwner: null,
      attempts: 5,
    });
    expect(await objectsOf(stack, tenant, mediaId)).toEqual([key]);
    expect(await stack.deps.storage.getBytes(key)).toEqual(photo);
    expect(await events.eventsFor(mediaId)).toEqual([]);

    throttling = false;
    const output = await runRedrive({ MEDIA_SQS_ENDPOINT: stack.sqsEndpoint });
    expect(output).toMatch(/^moved 1 message\(s\) from \S+media-ingest-dlq to \S+media-ingest$/m);
    await until('the upload is ready', async () => (await stack.deps.media.findById(mediaId))?.status === 'ready');
    // The event follows the commit (and the first one loads the SNS client): wait for it, then count.
    await until('its event is out', async () => (await events.eventsFor(mediaId)).length > 0);
    expect((await events.eventsFor(mediaId)).map((e) => e.type)).toEqual(['media.ready']);
    expect(await queueDepth(stack.sqs, stack.queues.ingestDlq)).toBe(0);
  });
});

/** `npm run redrive` as an operator runs it, against the given environment; its standard output. */
function runRedrive(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/local/src/bin/redrive.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`redrive exited ${code}: ${err}`))));
  });
}

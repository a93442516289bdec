import './support/quiet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPump } from '@media/local';
import type { Dependencies } from '@media/service';
import { handler as processUpload } from '@media/functions/process-upload';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog, queueDepth } from './support/event-log';
import { transientError, withFaults, type Call } from './support/fault-injection';
import { objectsOf, upload } from './support/uploads';

// `npm test` runs a short soak; `npm run soak` the full 500.
const UPLOADS = Number(process.env.SOAK_UPLOADS ?? 100);
const CLIENTS = 20;
const FAILURE_RATE = 0.05;
const PROCESSORS = 2;

/**
 * Chooses, for 5 % of processing attempts, one of the attempt's first ten calls to fail with a
 * transient error (S3 SlowDown, a cut database connection, SQS unavailable), before it happens.
 * Exactly 5 % of the first `planned` attempts are chosen to fail, at ordinals drawn from `random`:
 * left to chance alone, a soak of 100 uploads injected nothing about once in 170 runs. Later
 * attempts (retries) fail at 5 % by chance. A chosen attempt that ends early (a second delivery
 * finding the upload claimed) makes no fault.
 */
function transientFaults(random: () => number, planned: number) {
  const failing = new Set<number>();
  const quota = Math.max(1, Math.round(FAILURE_RATE * planned));
  while (failing.size < quota) failing.add(Math.floor(random() * planned));
  const plans = new Map<string, { failAt: number; seen: number }>();
  const stats = { attempts: 0, injected: 0 };
  const plan = (call: Call, phase: 'before' | 'after') => {
    if (phase !== 'before' || !call.mediaId) return undefined;
    if (call.label === 'media.findById' && !plans.has(call.mediaId)) {
      // The first call of an attempt.
      const ordinal = stats.attempts++;
      const fails = ordinal < planned ? failing.has(ordinal) : random() < FAILURE_RATE;
      if (fails) plans.set(call.mediaId, { failAt: 1 + Math.floor(random() * 10), seen: 0 });
      return undefined;
    }
    const attempt = plans.get(call.mediaId);
    if (!attempt || ++attempt.seen < attempt.failAt) return undefined;
    plans.delete(call.mediaId);
    stats.injected += 1;
    return transientError(call);
  };
  // An attempt that made fewer calls than planned ends without a fault; forget its plan then.
  const attemptEnded = (mediaId: string) => plans.delete(mediaId);
  return { plan, stats, attemptEnded };
}

/** A seeded generator, so a failing soak can be run again the same way. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`soak: ${UPLOADS} uploads from ${CLIENTS} clients with ${FAILURE_RATE * 100} % transient failures`, () => {
  let stack: TestStack;
  const pumps: EventPump[] = [];
  afterAll(async () => {
    await Promise.all(pumps.map((p) => p.stop()));
    await stack?.close();
  });

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.pump.stop();
  });

  it('ends with every upload terminal, none lost, none duplicated, and the DLQ empty', { timeout: 600_000 }, async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 100_000);
    const faults = transientFaults(mulberry32(seed), UPLOADS);
    const deps = withFaults<Dependencies>(stack.deps, faults.plan);
    const handler = processUpload.withDependencies(deps);
    // Several concurrent invocations, as an event source mapping scales out.
    for (let i = 0; i < PROCESSORS; i++) {
      const pump = new EventPump({
        sqs: stack.sqs,
        queueUrl: stack.queues.ingest,
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-ingest',
        handler: async (event, context) => {
          const response = await handler(event, context);
          for (const record of event.Records) faults.attemptEnded(/[0-9a-f]{8}-[0-9a-f-]{27}/.exec(record.body)?.[0] ?? '');
          return response;
        },
        retryBaseSeconds: 1,
      });
      pumps.push(pump);
      pump.start();
    }

    const tenant = uniqueTenant('soak');
    // Small photos: the soak is about concurrency and failures, not image work.
    const photos = await Promise.all([0, 1, 2, 3].map((i) => makePhoto({ width: 240 + 16 * i, height: 180 })));
    const started = performance.now();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const token = await stack.token({ role: 'student', tenant, sub: `student-${client}` });
        while (next < UPLOADS) {
          const n = next++;
          ids.push((await upload(stack, token, photos[n % photos.length]!)).mediaId);
        }
      }),
    );
    const uploaded = performance.now();

    const terminal = async () =>
      Number(
        (
          await stack.deps.db
            .selectFrom('media')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('tenant', '=', tenant)
            .where('status', 'in', ['ready', 'rejected'])
            .where('eventPublishedAt', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    for (const deadline = Date.now() + 540_000; (await terminal()) < UPLOADS && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 250));
    const finished = performance.now();

    const rows = await stack.deps.db.selectFrom('media').selectAll().where('tenant', '=', tenant).execute();
    const events = (await new QueueLog(stack.sqs, stack.queues.events).drain()).messages
      .map((m) => m.event)
      .filter((e) => e.tenant === tenant);
    const eventIds = new Set(events.map((e) => e.eventId));
    const expectedKeys = new Set(rows.flatMap((r) => r.variants.map((v) => v.key)));
    // Listed item by item: the S3 emulator cannot page through more than 1000 keys on Node 24.
    const stored: string[] = [];
    for (let i = 0; i < ids.length; i += CLIENTS) {
      const batch = await Promise.all(ids.slice(i, i + CLIENTS).map((id) => objectsOf(stack, tenant, id)));
      stored.push(...batch.flat());
    }
    const latencies = rows.map((r) => new Date(r.processedAt!).getTime() - new Date(r.createdAt).getTime()).sort((a, b) => a - b);
    const seconds = (finished - started) / 1000;
    const figures = {
      uploads: UPLOADS,
      clients: CLIENTS,
      terminal: rows.filter((r) => r.status === 'ready' || r.status === 'rejected').length,
      lost: ids.filter((id) => !rows.some((r) => r.id === id && r.status === 'ready')).length,
      duplicatedEvents: events.length - eventIds.size,
      dlq: await queueDepth(stack.sqs, stack.queues.ingestDlq),
      attempts: faults.stats.attempts,
      injectedFailures: faults.stats.injected,
    };
    console.log(
      [
        `soak (seed ${seed}): ${UPLOADS} uploads from ${CLIENTS} clients through the HTTP API and the S3 server, ${PROCESSORS} concurrent processors`,
        `  uploaded in ${((uploaded - started) / 1000).toFixed(1)} s, all terminal and announced after ${seconds.toFixed(1)} s: ${(UPLOADS / seconds).toFixed(1)} uploads/s end to end`,
        `  upload request → ready: p50 ${latencies[Math.floor(latencies.length * 0.5)]} ms, p95 ${latencies[Math.floor(latencies.length * 0.95)]} ms, max ${latencies.at(-1)} ms`,
        `  injected ${figures.injectedFailures} transient failures over ${figures.attempts} processing attempts (${((100 * figures.injectedFailures) / Math.max(1, figures.attempts)).toFixed(1)} %)`,
        `  terminal ${figures.terminal}/${UPLOADS}, lost ${figures.lost}, media.ready events ${events.length} (duplicates ${figures.duplicatedEvents}), DLQ ${figures.dlq}`,
      ].join('\n'),
    );

    expect(figures).toMatchObject({ terminal: UPLOADS, lost: 0, duplicatedEvents: 0, dlq: 0 });
    expect(rows).toHaveLength(UPLOADS);
    expect(eventIds.size).toBe(UPLOADS);
    expect(figures.injectedFailures).toBeGreaterThan(0);
    // No orphan: the bucket holds exactly what the records list, and nothing waits in incoming/.
    expect(stored.sort()).toEqual([...expectedKeys].sort());
  });
});

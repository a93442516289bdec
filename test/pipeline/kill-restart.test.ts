import './support/quiet';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { MediaRecord, UploadTicket } from '@media/core';
import { mintDevToken } from '@media/local';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { freePort, killProcessGroup, startStackProcess, stopProcess } from './support/child-stack';
import { isolatedDatabase } from './support/isolated-database';

/**
 * A `201` for an upload and a `204` for its bytes are promises: whatever happens to the stack
 * after them, the upload ends ready. Here the whole local stack (its process group) is killed with
 * SIGKILL at a random instant while uploads are under way, or right after a batch of reservations
 * whose bytes the client then posts once the stack is back, and started again on the same data.
 * On PostgreSQL, the service's connections are also terminated mid-load. Counts are printed.
 */
describe('acknowledged uploads survive the local stack being killed', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  /** A teacher uploading small photos through the API and S3, as a client does. */
  async function uploader(api: string, secret: string) {
    const photo = await makePhoto({ width: 320, height: 240 });
    const token = await mintDevToken({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: ['c-1'] }, secret);
    const headers = { authorization: `Bearer ${token}` };
    return {
      /** 201 and the ticket, or whatever else came back (a status, or 0 when the stack was gone). */
      async reserve(): Promise<{ status: number; ticket?: UploadTicket }> {
        try {
          const res = await fetch(`${api}/v1/uploads`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ purpose: 'general', contentType: 'image/jpeg', size: photo.length }),
          });
          return res.status === 201 ? { status: 201, ticket: (await res.json()) as UploadTicket } : { status: res.status };
        } catch {
          return { status: 0 };
        }
      },
      /** The bytes to the presigned POST: 204, or 0 when the stack was gone. */
      async post(ticket: UploadTicket): Promise<number> {
        const form = new FormData();
        for (const [k, v] of Object.entries(ticket.upload.fields)) form.append(k, v);
        form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
        try {
          return (await fetch(ticket.upload.url, { method: 'POST', body: form })).status;
        } catch {
          return 0;
        }
      },
      async status(id: string): Promise<string> {
        const res = await fetch(`${api}/v1/media/${id}`, { headers });
        return res.status === 200 ? ((await res.json()) as MediaRecord).status : `HTTP ${res.status}`;
      },
    };
  }
  type Uploader = Awaited<ReturnType<typeof uploader>>;

  /** Reservations answered 201, and whether their bytes were answered 204. */
  type Acknowledged = Map<string, { ticket: UploadTicket; posted: boolean }>;

  /** `workers` clients reserving and posting in a loop until `until` resolves. Other answers are counted. */
  async function load(client: Uploader, acknowledged: Acknowledged, until: Promise<unknown>, workers = 4) {
    let stop = false;
    void until.then(() => (stop = true));
    const others: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (!stop) {
          const { status, ticket } = await client.reserve();
          if (!ticket) {
            others[status] = (others[status] ?? 0) + 1;
            // Refused or gone: a real client backs off before it tries again.
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          const entry = { ticket, posted: false };
          acknowledged.set(ticket.mediaId, entry);
          entry.posted = (await client.post(ticket)) === 204;
        }
      }),
    );
    return others;
  }

  /** Posts what was reserved but not yet accepted (a client retrying after the crash), then waits until every acknowledged upload is ready. */
  async function everyAcknowledgedEndsReady(client: Uploader, acknowledged: Acknowledged, output: () => string) {
    let postedLate = 0;
    for (const entry of acknowledged.values()) {
      if (entry.posted) continue;
      expect(await client.post(entry.ticket), 'the bytes of a reserved upload, posted after the restart').toBe(204);
      entry.posted = true;
      postedLate += 1;
    }
    const ids = [...acknowledged.keys()];
    let statuses: string[] = [];
    for (const deadline = Date.now() + 150_000; Date.now() < deadline; ) {
      statuses = await Promise.all(ids.map((id) => client.status(id)));
      if (statuses.every((s) => s === 'ready')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const notReady = ids.flatMap((id, i) => (statuses[i] === 'ready' ? [] : [`${id}: ${statuses[i]}`]));
    expect(notReady, `acknowledged uploads that did not end ready:\n${output().slice(-3000)}`).toEqual([]);
    return { postedLate, ready: statuses.filter((s) => s === 'ready').length };
  }

  async function portsAndEnv(extra: Record<string, string | undefined>) {
    const dataDir = await mkdtemp(join(tmpdir(), 'media-kill-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const [port, s3Port, sqsPort] = [await freePort(), await freePort(), await freePort()];
    const secret = 'kill-test-secret-0123456789';
    const env = {
      ...process.env,
      PORT: String(port),
      MEDIA_S3_PORT: String(s3Port),
      MEDIA_SQS_PORT: String(sqsPort),
      MEDIA_DATA_DIR: dataDir,
      MEDIA_JWT_SECRET: secret,
      // A killed worker's lease runs out quickly, and the sweeper looks every second.
      MEDIA_PROCESSING_LEASE_SECONDS: '10',
      MEDIA_SWEEP_INTERVAL_SECONDS: '1',
      // The load here is the test's own pace for one school, not abuse: the throttles have their own tests.
      MEDIA_SCHOOL_REQUESTS_PER_SECOND: '100000',
      MEDIA_SCHOOL_REQUEST_BURST: '100000',
      // Nor is the backlog: with its connections cut, the stack processes slower than one teacher's four
      // clients reserve, and the per-person cap on unfinished uploads (50) would answer 429 to the load.
      MEDIA_MAX_PENDING_UPLOADS: '10000',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // Processing is what is killed here; the face stage after `ready` has tests of its own (test/faces).
      MEDIA_FACES: 'off',
      ...extra,
    };
    return { env, api: `http://127.0.0.1:${port}`, secret };
  }

  const randomBetween = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

  /** SIGKILL to the whole stack `afterMs` after the load's first acknowledgement: a random instant of work under way. */
  async function killAfterFirstReservation(stack: ChildProcess, acknowledged: Acknowledged, afterMs: number) {
    while (acknowledged.size === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, afterMs));
    await killProcessGroup(stack);
  }

  it('on the embedded database: killed at a random instant under load, or right after the 201s, every acknowledged upload ends ready', {
    timeout: 600_000,
  }, async () => {
    // The embedded database is the point here: no DATABASE_URL.
    const { env, api, secret } = await portsAndEnv({ DATABASE_URL: '' });
    let running: ChildProcess | undefined;
    cleanup.push(async () => running && killProcessGroup(running));
    const start = async () => {
      const started = await startStackProcess(env, { ownProcessGroup: true, startBudgetMs: 240_000 });
      running = started.child;
      return started;
    };

    let stack = await start();
    const client = await uploader(api, secret);
    const rounds: { kind: 'under way' | 'reserved, bytes after the restart' }[] = [
      { kind: 'under way' },
      { kind: 'reserved, bytes after the restart' },
      { kind: 'under way' },
    ];
    for (const [n, round] of rounds.entries()) {
      const acknowledged: Acknowledged = new Map();
      let detail: string;
      if (round.kind === 'under way') {
        const killedAfterMs = randomBetween(0, 2500);
        const kill = killAfterFirstReservation(stack.child, acknowledged, killedAfterMs);
        await load(client, acknowledged, kill);
        await kill;
        const posted = [...acknowledged.values()].filter((e) => e.posted).length;
        detail = `killed ${killedAfterMs} ms after the first 201: ${acknowledged.size} reserved (201), ${posted} posted (204) before the kill`;
      } else {
        const answers = await Promise.all(Array.from({ length: 6 }, () => client.reserve()));
        for (const { ticket } of answers) if (ticket) acknowledged.set(ticket.mediaId, { ticket, posted: false });
        await killProcessGroup(stack.child);
        detail = `killed right after ${acknowledged.size} reservations (201), no bytes yet`;
      }
      const restarting = Date.now();
      stack = await start();
      const restartS = ((Date.now() - restarting) / 1000).toFixed(1);
      const { postedLate, ready } = await everyAcknowledgedEndsReady(client, acknowledged, stack.output);
      console.log(
        `kill round ${n + 1} (embedded database, ${round.kind}): ${detail}; back up in ${restartS} s; ${postedLate} posted after the restart; ${ready}/${acknowledged.size} ready`,
      );
      expect(acknowledged.size, 'the round acknowledged nothing: it proves nothing').toBeGreaterThan(0);
    }
    await stopProcess(stack.child, 'SIGTERM');
  });

  it('on PostgreSQL: the service’s connections terminated mid-load, then the stack killed, every acknowledged upload ends ready', {
    timeout: 400_000,
  }, async () => {
    const database = await isolatedDatabase();
    cleanup.push(() => database.drop());
    expect(database.url, 'needs a PostgreSQL server (DATABASE_URL, or one on 127.0.0.1:5432)').toBeTruthy();
    const { env, api, secret } = await portsAndEnv({ DATABASE_URL: database.url });
    let running: ChildProcess | undefined;
    cleanup.push(async () => running && killProcessGroup(running));
    const start = async () => {
      const started = await startStackProcess(env, { ownProcessGroup: true, startBudgetMs: 120_000 });
      running = started.child;
      return started;
    };
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    cleanup.push(() => admin.end());

    let stack = await start();
    const client = await uploader(api, secret);

    // 1. Under load, every connection of the service to its database is cut, five times.
    const acknowledged: Acknowledged = new Map();
    let terminated = 0;
    const terminations = (async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, randomBetween(300, 900)));
        const { rowCount } = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        );
        terminated += rowCount ?? 0;
      }
    })();
    const refused = await load(client, acknowledged, terminations);
    expect(terminated, 'no connection of the service was terminated').toBeGreaterThan(0);
    // A request whose connection was cut is told to try again (503), never answered 500.
    expect(
      Object.keys(refused).filter((status) => status !== '503'),
      stack.output().slice(-4000),
    ).toEqual([]);
    const first = await everyAcknowledgedEndsReady(client, acknowledged, stack.output);
    console.log(
      `PostgreSQL, ${terminated} connections terminated mid-load: ${acknowledged.size} reserved (201), other answers ${JSON.stringify(refused)}, ${first.ready}/${acknowledged.size} ready`,
    );

    // 2. The whole stack killed at a random instant under load, started again on the same database.
    const second: Acknowledged = new Map();
    const killedAfterMs = randomBetween(0, 2500);
    const kill = killAfterFirstReservation(stack.child, second, killedAfterMs);
    await load(client, second, kill);
    await kill;
    const postedBeforeKill = [...second.values()].filter((e) => e.posted).length;
    stack = await start();
    const after = await everyAcknowledgedEndsReady(client, second, stack.output);
    console.log(
      `PostgreSQL, killed ${killedAfterMs} ms after the first 201: ${second.size} reserved (201), ${postedBeforeKill} posted (204) before the kill, ${after.postedLate} after the restart; ${after.ready}/${second.size} ready`,
    );
    expect(second.size, 'the round acknowledged nothing: it proves nothing').toBeGreaterThan(0);
    await stopProcess(stack.child, 'SIGTERM');
  });
});

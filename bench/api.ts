import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest, seedMedia } from '@media/db';
import { mintDevToken } from '@media/local';
import { measureQueryCosts } from './query-costs';

/**
 * npm run bench:api [-- --seed-rows N] [--seconds S] [--connections 20,100]
 *
 * The control plane under load, on DATABASE_URL: the local stack (`npm start`) and the floor
 * server (JWT check, presign, one INSERT; bench/floor-server.ts) run as child processes on
 * loopback; autocannon drives both, one load at a time. Prints uploads/s and p50/p99 for the
 * largest and a small school, list latency per role, usage and duplicate-search latency, the
 * floors' figures (the bare floor, the floor whose one statement is the service's reservation,
 * and a usage answer with nothing around it), the ratios, and what each request-path query costs
 * the database (EXPLAIN ANALYZE) for the largest school.
 */
const { values } = parseArgs({
  options: {
    'seed-rows': { type: 'string' },
    schools: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20,100' },
    /** `uploads` runs the upload loads only (quicker, when working on the upload path). */
    only: { type: 'string' },
  },
});
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('bench:api needs DATABASE_URL (a PostgreSQL database it may fill, e.g. postgres://postgres@127.0.0.1:5432/media_bench)');
  process.exit(2);
}
const seconds = Number(values.seconds);
const concurrencies = values.connections.split(',').map(Number);
const secret = 'bench-secret-bench-secret';
const BENCH_UPLOADER = 'bench-';

const db = await createDatabase({ url: databaseUrl, poolSize: 2 });
await migrateToLatest(db);
// The service commits with the database's setting, the floor always durably: a database that
// commits without waiting for the flush (as test databases do) would compare unlike with unlike.
const { rows: durability } = await sql<{
  synchronousCommit: string;
}>`select current_setting('synchronous_commit') as synchronous_commit`.execute(db);
if (durability[0]?.synchronousCommit !== 'on') {
  console.error(
    `bench:api needs a database whose commits wait for the WAL flush (synchronous_commit is ${durability[0]?.synchronousCommit})`,
  );
  process.exit(2);
}
if (values['seed-rows']) {
  const started = Date.now();
  const seeded = await seedMedia(db, { rows: Number(values['seed-rows']), schools: Number(values.schools) });
  console.log(`seeded ${seeded.rows} rows in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * The bench's own uploads never arrive: deleted afterwards (in batches; the counters' trigger gives
 * their space back), with the counter rows of their uploaders, and vacuumed away, so the database
 * can be reused and the next run meets the same tables. Left behind, they pile up in the measured
 * schools run after run (expired rows slowed the next run's inserts: 4.8 ms instead of 1.1 ms per
 * reservation after 68,000 of them unvacuumed).
 */
async function removeBenchUploads(): Promise<number> {
  let removed = 0;
  for (;;) {
    const { numDeletedRows } = await db
      .deleteFrom('media')
      .where('id', 'in', (eb) => eb.selectFrom('media').select('id').where('uploadedBy', 'like', `${BENCH_UPLOADER}%`).limit(5000))
      .executeTakeFirst();
    if (Number(numDeletedRows) === 0) break;
    removed += Number(numDeletedRows);
  }
  await db
    .deleteFrom('mediaUsage')
    .where('scope', '=', 'uploader')
    .where('key', 'like', `${BENCH_UPLOADER}%`)
    .where('count', '=', 0)
    .where('storedBytes', '=', 0)
    .where('reservedBytes', '=', 0)
    .execute();
  if (removed > 0) {
    console.log(`removed ${removed} bench uploads; vacuuming`);
    // Their counter updates leave dead versions of the counter rows too (a usage answer reads them).
    await sql`vacuum (analyze) media, media_usage`.execute(db);
    // And what the removal and the vacuum wrote goes to disk now, not while the next load runs.
    await sql`checkpoint`.execute(db);
  }
  return removed;
}
await removeBenchUploads();
// The floor's table: the shape and indexes of `media`, without the counters' triggers. Autovacuum
// leaves it alone: thousands of new rows under 20 indexes, it would take the table up while the
// next load runs.
await sql`drop table if exists bench_floor_media`.execute(db);
await sql`create table bench_floor_media (like media including defaults including generated including indexes) with (autovacuum_enabled = false)`.execute(
  db,
);

// A school's figure is the sum of its counter shards.
const schools = (
  await db
    .selectFrom('mediaUsage')
    .select(['tenant', sql<string>`sum(count)`.as('count')])
    .where('scope', '=', 'school')
    .where('tenant', 'not like', 'bench-%')
    .groupBy('tenant')
    .orderBy(sql`sum(count)`, 'desc')
    .execute()
).map((school) => ({ tenant: school.tenant, count: Number(school.count) }));
if (schools.length < 2) {
  console.error('the database holds fewer than two schools: seed it first (--seed-rows N)');
  process.exit(2);
}
const largest = schools[0]!;
// A small school: the one at the 90th percentile of the ranking.
const small = schools[Math.floor(schools.length * 0.9)]!;
const total = await db
  .selectFrom('media')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .executeTakeFirstOrThrow();
const reference = await db
  .selectFrom('media')
  .select('id')
  .where('tenant', '=', largest.tenant)
  .where('status', '=', 'ready')
  .where('phash', 'is not', null)
  .orderBy('id', 'desc')
  .limit(1)
  .executeTakeFirstOrThrow();
console.log(
  `${Number(total.n)} media rows; largest school ${largest.tenant} (${largest.count} holding space), small ${small.tenant} (${small.count})`,
);

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

async function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${seen}`)), 120_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        // From here on its output is drained, not kept: scanning an ever longer log on every chunk
        // would take this process's CPU (autocannon's) away from the load it measures.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        seen = '';
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (seen.length < 64 * 1024) seen += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${seen}`)));
  });
  return child;
}

const dataDir = join(tmpdir(), `media-bench-api-${process.pid}`);
const apiPort = await freePort();
const floorPort = await freePort();
const stack = await startChild(
  ['packages/local/src/bin/start.ts'],
  {
    DATABASE_URL: databaseUrl,
    PORT: String(apiPort),
    MEDIA_S3_PORT: String(await freePort()),
    MEDIA_SQS_PORT: String(await freePort()),
    MEDIA_DATA_DIR: dataDir,
    MEDIA_JWT_SECRET: secret,
    MEDIA_SWEEP_INTERVAL_SECONDS: '0',
    // The local stack's upload log (a line per upload, for a developer watching \`npm start\`) is
    // not part of the request path: Lambda has no such line. Warnings still print.
    MEDIA_LOG_LEVEL: 'warn',
    // The bench measures the request path at a thousand requests a second for one school; a
    // school's request budget would only measure how fast 429s come back.
    MEDIA_SCHOOL_REQUESTS_PER_SECOND: '100000',
    MEDIA_SCHOOL_REQUEST_BURST: '100000',
  },
  /is up/,
);
// The read floor answers the bytes of the service's own usage answer for the largest school.
const usageAnswerFile = join(tmpdir(), `media-bench-usage-${process.pid}.json`);
const usageAnswer = await fetch(`http://127.0.0.1:${apiPort}/v1/usage?groupBy=subject`, {
  headers: {
    authorization: `Bearer ${await mintDevToken({ role: 'admin', tenant: largest.tenant, sub: 'admin-1', classrooms: [] }, secret)}`,
  },
});
if (usageAnswer.status !== 200) throw new Error(`the stack answered usage with ${usageAnswer.status}`);
await writeFile(usageAnswerFile, Buffer.from(await usageAnswer.arrayBuffer()));
const floor = await startChild(
  ['bench/floor-server.ts'],
  { DATABASE_URL: databaseUrl, PORT: String(floorPort), MEDIA_JWT_SECRET: secret, FLOOR_USAGE_ANSWER: usageAnswerFile },
  /floor listening/,
);

interface Load {
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Fresh uploaders, each used for fewer uploads than the unfinished-upload limit of 50. */
async function uploaderTokens(tenant: string, count: number, label: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      mintDevToken({ role: 'teacher', tenant, sub: `${BENCH_UPLOADER}${label}-${i}`, classrooms: ['c-1'] }, secret),
    ),
  );
}

/** The run ends early (as asked), not in error. */
class Done extends Error {}

let round = 0;
async function load(
  url: string,
  connections: number,
  options: { method?: 'GET' | 'POST'; body?: string; tokens: string[] },
  duration = seconds,
): Promise<Load> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${options.tokens[next++ % options.tokens.length]}` },
        }),
      },
    ],
  });
  // autocannon stops at its duration with up to `connections` requests still in flight, which the
  // server goes on answering: a load started at once would queue behind them (a list at 100 clients
  // measured p99 ~1 s that way, ~200 ms after a pause). One more request of the same kind, once
  // answered, says the server is through them.
  const settled = await fetch(url, {
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.tokens[0]}` },
    body: options.body,
  });
  await settled.arrayBuffer();
  return {
    rps: result['2xx'] / duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/**
 * A read load after one unmeasured second of the same requests: the route's code compiled, its
 * connections open, as the uploads are warmed up before theirs.
 */
async function warmedLoad(url: string, connections: number, options: { tokens: string[] }): Promise<Load> {
  await load(url, connections, options, 1);
  return load(url, connections, options);
}

const uploadBody = JSON.stringify({ purpose: 'general', contentType: 'image/jpeg', size: 250_000 });
const api = `http://127.0.0.1:${apiPort}`;
const rows: { name: string; connections: number; load: Load }[] = [];
const record = (name: string, connections: number, result: Load) => {
  rows.push({ name, connections, load: result });
  console.log(
    `${name.padEnd(34)} c=${String(connections).padStart(3)}  ${result.rps.toFixed(0).padStart(6)}/s  p50 ${String(result.p50).padStart(5)} ms  p99 ${String(result.p99).padStart(5)} ms  non-2xx ${result.non2xx}  errors ${result.errors}`,
  );
};

try {
  const tokenOf = (role: 'student' | 'teacher' | 'admin' | 'service', sub: string, classrooms: string[] = []) =>
    mintDevToken({ role, tenant: largest.tenant, sub, classrooms }, secret);
  const readers = {
    student: [await tokenOf('student', 's-3', ['c-3'])],
    teacher: [await tokenOf('teacher', 't-2', ['c-2'])],
    admin: [await tokenOf('admin', 'admin-1')],
    'ai-service': [await tokenOf('service', 'ai-service')],
  };
  // Enough uploaders that none reaches the unfinished-upload limit in a run (about 1,000 uploads/s at most).
  const perRun = Math.max(200, Math.ceil((seconds * 1000) / 40));
  for (const connections of concurrencies) {
    round += 1;
    const big = await uploaderTokens(largest.tenant, perRun, `big${round}`);
    const little = await uploaderTokens(small.tenant, perRun, `small${round}`);
    // The floor's rows go to a school of their own, not into the schools being measured.
    const floorTokens = await uploaderTokens('bench-floor-school', perRun, `floor${round}`);
    // Warm both servers up (JIT, connections, counter rows) before anything is measured.
    const warm = { method: 'POST' as const, body: uploadBody, tokens: await uploaderTokens('bench-floor-school', 100, `warm${round}`) };
    await load(`${api}/v1/uploads`, connections, warm, 2);
    await load(`http://127.0.0.1:${floorPort}/v1/uploads`, connections, warm, 2);
    // Which school goes first alternates between rounds, so neither always follows the other.
    const uploads: [string, string[]][] = [
      ['upload, largest school', big],
      ['upload, small school', little],
    ];
    if (round % 2 === 0) uploads.reverse();
    for (const [name, tokens] of uploads) {
      record(name, connections, await load(`${api}/v1/uploads`, connections, { method: 'POST', body: uploadBody, tokens }));
    }
    record(
      'upload, floor server',
      connections,
      await load(`http://127.0.0.1:${floorPort}/v1/uploads`, connections, { method: 'POST', body: uploadBody, tokens: floorTokens }),
    );
    // The floor again, its one statement the service's reservation, in the largest school.
    const reserved = `http://127.0.0.1:${floorPort}/v1/uploads/reserved`;
    const reservedWarm = await uploaderTokens(largest.tenant, 100, `floor-reserved-warm${round}`);
    await load(reserved, connections, { method: 'POST', body: uploadBody, tokens: reservedWarm }, 2);
    record(
      'upload, floor + reservation',
      connections,
      await load(reserved, connections, {
        method: 'POST',
        body: uploadBody,
        tokens: await uploaderTokens(largest.tenant, perRun, `floor-reserved${round}`),
      }),
    );
    // The next loads meet the tables as autovacuum keeps them, not just after thousands of uploads
    // that never arrive: this round's are removed and vacuumed away first (as at the end of the
    // run). The floor's own rows go too: left, they weighed on the loads after them.
    await sql`truncate bench_floor_media`.execute(db);
    await removeBenchUploads();
    if (values.only === 'uploads') continue;
    for (const [role, tokens] of Object.entries(readers)) {
      record(`list (${role})`, connections, await warmedLoad(`${api}/v1/media?limit=50`, connections, { tokens }));
    }
    record(
      'usage by purpose (admin)',
      connections,
      await warmedLoad(`${api}/v1/usage?groupBy=purpose`, connections, { tokens: readers.admin }),
    );
    record(
      'usage by subject (admin)',
      connections,
      await warmedLoad(`${api}/v1/usage?groupBy=subject`, connections, { tokens: readers.admin }),
    );
    record(
      'usage, floor server (same answer)',
      connections,
      await warmedLoad(`http://127.0.0.1:${floorPort}/v1/usage`, connections, { tokens: readers.admin }),
    );
    record(
      'duplicates (admin)',
      connections,
      await warmedLoad(`${api}/v1/media?duplicateOf=${reference.id}&limit=50`, connections, { tokens: readers.admin }),
    );
  }

  console.log('\nratios');
  for (const connections of concurrencies) {
    const of = (name: string) => rows.find((r) => r.name === name && r.connections === connections)!.load;
    const big = of('upload, largest school');
    const little = of('upload, small school');
    const floorLoad = of('upload, floor server');
    const reservedFloor = of('upload, floor + reservation');
    console.log(
      `c=${connections}: largest/small uploads ${(big.rps / little.rps).toFixed(2)} (target ≥ 0.8), ` +
        `small/floor ${(little.rps / floorLoad.rps).toFixed(2)}, largest/floor ${(big.rps / floorLoad.rps).toFixed(2)} (target ≥ 0.8); ` +
        `floor + reservation/floor ${(reservedFloor.rps / floorLoad.rps).toFixed(2)} (the reservation's database work alone), ` +
        `largest/(floor + reservation) ${(big.rps / reservedFloor.rps).toFixed(2)} (the service's own layers)`,
    );
  }
  const non2xx = rows.filter((r) => !r.name.includes('floor')).reduce((sum, r) => sum + r.load.non2xx + r.load.errors, 0);
  console.log(`non-2xx or errors from the service: ${non2xx} (target 0)`);
  if (values.only === 'uploads') throw new Done();

  console.log(`\nrequest-path queries, ${largest.tenant} (EXPLAIN ANALYZE, planning + execution, target ≤ 5 ms)`);
  for (const cost of await measureQueryCosts(databaseUrl, largest.tenant)) {
    console.log(`${cost.name.padEnd(40)} ${cost.ms.toFixed(2).padStart(7)} ms  ${cost.scans.join(', ')}`);
  }
} catch (error) {
  if (!(error instanceof Done)) throw error;
} finally {
  stack.kill('SIGTERM');
  floor.kill('SIGTERM');
  await removeBenchUploads();
  await sql`drop table if exists bench_floor_media`.execute(db);
  await db.destroy();
  await rm(dataDir, { recursive: true, force: true });
  await rm(usageAnswerFile, { force: true });
}

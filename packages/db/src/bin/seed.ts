import { parseArgs } from 'node:util';
import { openToolDatabase } from './tool-database';
import { migrateToLatest } from '../migrator';
import { seedMedia } from '../seed';

// npm run seed -- --rows 1000000 [--schools 200] [--seed 1]; the last line is the JSON summary.
const USAGE = 'usage: npm run seed -- --rows N [--schools S] [--seed K]';
let parsed;
try {
  parsed = parseArgs({
    options: { rows: { type: 'string' }, schools: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' } },
  });
} catch (error) {
  // Bad usage is one sentence, not a stack trace.
  console.error(`${(error as Error).message.split('.')[0]}. ${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
const rows = Number(values.rows);
const schools = Number(values.schools);
const seed = Number(values.seed);
if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(schools) || schools < 1 || !Number.isInteger(seed)) {
  console.error(USAGE);
  process.exit(2);
}

const db = await openToolDatabase(process.env);
try {
  await migrateToLatest(db);
  const started = Date.now();
  // On a terminal, one redrawn line of progress on stderr; piped, nothing: the last stdout line stays the JSON summary.
  const onProgress = process.stderr.isTTY
    ? (written: number, total: number) => {
        const seconds = (Date.now() - started) / 1000;
        const rate = written / Math.max(seconds, 0.001);
        const left = rate > 0 ? (total - written) / rate : 0;
        process.stderr.write(
          `\r${written.toLocaleString('en')} of ${total.toLocaleString('en')} rows · ${Math.round(rate).toLocaleString('en')} rows/s · ${Math.ceil(left)} s left   `,
        );
      }
    : undefined;
  const result = await seedMedia(db, { rows, schools, seed, onProgress });
  if (onProgress) process.stderr.write('\n');
  console.error(`seeded ${result.rows} rows over ${result.schools.length} schools in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({ rows: result.rows, schools: result.schools.map(({ tenant, rows }) => ({ tenant, rows })) }));
} finally {
  await db.destroy();
}

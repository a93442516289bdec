import { parseArgs } from 'node:util';
import { openToolDatabase } from './tool-database';
import { migrateToLatest } from '../migrator';
import { seedMedia } from '../seed';

// npm run seed -- --rows 1000000 [--schools 200] [--seed 1]; the last line is the JSON summary.
const { values } = parseArgs({
  options: { rows: { type: 'string' }, schools: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' } },
});
const rows = Number(values.rows);
const schools = Number(values.schools);
const seed = Number(values.seed);
if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(schools) || schools < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run seed -- --rows N [--schools S] [--seed K]');
  process.exit(2);
}

const db = await openToolDatabase(process.env);
try {
  await migrateToLatest(db);
  const started = Date.now();
  const result = await seedMedia(db, { rows, schools, seed });
  console.error(`seeded ${result.rows} rows over ${result.schools.length} schools in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({ rows: result.rows, schools: result.schools.map(({ tenant, rows }) => ({ tenant, rows })) }));
} finally {
  await db.destroy();
}

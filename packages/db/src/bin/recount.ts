import { openToolDatabase } from './tool-database';
import { migrateToLatest } from '../migrator';
import { recountUsage } from '../usage-recount';

// npm run db:recount [-- --fix] [--tenant T]: exits 1 and prints each difference when the counters
// disagree with the rows (after repairing them with --fix).
const args = process.argv.slice(2);
const fix = args.includes('--fix');
const tenantAt = args.indexOf('--tenant');
const tenant = tenantAt >= 0 ? args[tenantAt + 1] : undefined;

const db = await openToolDatabase(process.env);
try {
  await migrateToLatest(db);
  const result = await recountUsage(db, { fix, tenant });
  for (const d of result.differences) {
    console.log(
      `${d.tenant} ${d.scope} ${JSON.stringify(d.key)}: counted ${JSON.stringify(d.counted)}, rows say ${JSON.stringify(d.actual)}`,
    );
  }
  const summary = { checked: result.checked, differences: result.differences.length, fixed: result.fixed };
  console.log(JSON.stringify(summary));
  if (result.differences.length > 0) process.exitCode = 1;
} finally {
  await db.destroy();
}

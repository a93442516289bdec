import { openToolDatabase } from './tool-database';
import { migrateToLatest } from '../migrator';

const db = await openToolDatabase(process.env);
try {
  const { results } = await migrateToLatest(db);
  for (const r of results ?? []) console.log(`${r.status.padEnd(8)} ${r.migrationName}`);
  console.log(results?.length ? 'migrated' : 'already up to date');
} finally {
  await db.destroy();
}

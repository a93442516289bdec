import { createDatabase, migrateToLatest, seedMedia } from '@media/db';
const db = await createDatabase({ url: process.env.U!, poolSize: 2 });
await migrateToLatest(db);
const t = Date.now();
await seedMedia(db, { rows: 100_000, schools: 50, seed: 7 });
console.log('seed ms', Date.now() - t);
await db.destroy();

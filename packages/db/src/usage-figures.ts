import { sql } from 'kysely';
import { RowStore } from './media-rows';

/**
 * What takes up space, for the quota check and the usage figures alike (they must agree): stored
 * sizes of processed items, declared sizes of unfinished ones, of pending, processing and ready
 * rows. The `media_usage` counters hold exactly that (kept by the database on every change), a
 * figure being the sum of its shards.
 */
const BYTES_HELD = sql<string>`sum(stored_bytes + reserved_bytes)`;

/** The usage figures, read from the counters the database keeps (`media_usage`). */
export class UsageFigures extends RowStore {
  /** Usage figures from the counters: one row per purpose or subject ('' for none) holding space. */
  async usage(tenant: string, groupBy: 'purpose' | 'subject'): Promise<{ key: string; count: number; bytes: number }[]> {
    // A figure is the sum of its shards (one row for a subject, several for a purpose or no subject),
    // summed in key order straight from the counters' primary key.
    const rows = await this.db
      .selectFrom('mediaUsage')
      .select(['key', sql<string>`sum(count)`.as('count'), BYTES_HELD.as('bytes')])
      .where('tenant', '=', tenant)
      .where('scope', '=', groupBy)
      .groupBy('key')
      .having(sql`sum(count)`, '>', 0)
      // Code-point order (as before on a C.UTF-8 database), without the cost of a locale's comparison.
      .orderBy(sql`key collate "C"`)
      .execute();
    return rows.map((r) => ({ key: r.key, count: Number(r.count), bytes: Number(r.bytes) }));
  }
}

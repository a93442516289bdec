import { sql, type Kysely } from 'kysely';
import type { Database, UsageScope } from './database';

/** One counter that disagrees with the rows: what it says, and what the rows say. */
export interface UsageDifference {
  tenant: string;
  scope: UsageScope;
  key: string;
  counted: { count: number; storedBytes: number; reservedBytes: number };
  actual: { count: number; storedBytes: number; reservedBytes: number };
}

export interface RecountResult {
  /** Counter rows compared (those that exist or should). */
  checked: number;
  differences: UsageDifference[];
  /** True when `fix` was asked for and the counters were rewritten from the rows. */
  fixed: boolean;
}

/** The counters as the rows make them: the same definition of space held as the triggers'. */
const FROM_ROWS = sql`
  select m.tenant, c.scope, c.key, count(*)::bigint as count,
         coalesce(sum(m.size), 0)::bigint as stored_bytes,
         coalesce(sum(case when m.size is null then m.declared_size else 0 end), 0)::bigint as reserved_bytes
  from media m
  cross join lateral (values ('school', ''), ('purpose', m.purpose), ('subject', coalesce(m.subject_id, '')), ('uploader', m.uploaded_by)) c(scope, key)
  where m.status in ('pending', 'processing', 'ready')
  group by m.tenant, c.scope, c.key`;

/** The stored counters, each figure the sum of its shards (migration 0010). */
const COUNTED = sql`
  select tenant, scope, key, sum(count) as count, sum(stored_bytes) as stored_bytes, sum(reserved_bytes) as reserved_bytes
  from media_usage
  group by tenant, scope, key`;

/**
 * Rebuilds the usage counters from the media rows and compares them with the stored ones; with
 * `fix`, rewrites the counters of every disagreeing (tenant, scope, key). The fix holds a SHARE lock
 * on `media` (writers wait, readers do not), so no change slips between the count and the write.
 * Only a figure's sum means anything (shards are parts of it), so a figure is compared as its sum
 * and repaired as one row in shard 0, its other shards removed.
 */
export async function recountUsage(db: Kysely<Database>, options: { fix?: boolean; tenant?: string } = {}): Promise<RecountResult> {
  return db.transaction().execute(async (trx) => {
    if (options.fix) await sql`lock table media in share mode`.execute(trx);
    const tenantFilter = options.tenant ? sql`where coalesce(a.tenant, u.tenant) = ${options.tenant}` : sql``;
    const { rows } = await sql<{
      tenant: string;
      scope: UsageScope;
      key: string;
      cCount: number | null;
      cStored: number | null;
      cReserved: number | null;
      aCount: number | null;
      aStored: number | null;
      aReserved: number | null;
    }>`
      -- (Column names come back camelCased by the connection's CamelCasePlugin.)
      select coalesce(a.tenant, u.tenant) as tenant, coalesce(a.scope, u.scope) as scope, coalesce(a.key, u.key) as key,
             u.count as c_count, u.stored_bytes as c_stored, u.reserved_bytes as c_reserved,
             a.count as a_count, a.stored_bytes as a_stored, a.reserved_bytes as a_reserved
      from (${FROM_ROWS}) a
      full outer join (${COUNTED}) u on u.tenant = a.tenant and u.scope = a.scope and u.key = a.key
      ${tenantFilter}`.execute(trx);
    const differences: UsageDifference[] = [];
    for (const r of rows) {
      const counted = { count: Number(r.cCount ?? 0), storedBytes: Number(r.cStored ?? 0), reservedBytes: Number(r.cReserved ?? 0) };
      const actual = { count: Number(r.aCount ?? 0), storedBytes: Number(r.aStored ?? 0), reservedBytes: Number(r.aReserved ?? 0) };
      if (counted.count !== actual.count || counted.storedBytes !== actual.storedBytes || counted.reservedBytes !== actual.reservedBytes) {
        differences.push({ tenant: r.tenant, scope: r.scope, key: r.key, counted, actual });
      }
    }
    if (options.fix && differences.length > 0) {
      for (const d of differences) {
        const removed = await trx
          .deleteFrom('mediaUsage')
          .where('tenant', '=', d.tenant)
          .where('scope', '=', d.scope)
          .where('key', '=', d.key)
          .returning('version')
          .execute();
        // A school's row keeps the versions of the rows it replaces, so their sum never goes back.
        const version = removed.reduce((sum, row) => sum + Number(row.version), 0);
        await trx
          .insertInto('mediaUsage')
          .values({ tenant: d.tenant, scope: d.scope, key: d.key, shard: 0, ...d.actual, version })
          .execute();
      }
      // Then each repaired school's version moves (migration 0013), so a usage answer kept from
      // before the repair is not served again.
      for (const tenant of new Set(differences.map((d) => d.tenant))) {
        await trx
          .insertInto('mediaUsage')
          .values({ tenant, scope: 'school', key: '', shard: 0, count: 0, storedBytes: 0, reservedBytes: 0, version: 1 })
          .onConflict((oc) =>
            oc.columns(['tenant', 'scope', 'key', 'shard']).doUpdateSet((eb) => ({ version: eb('mediaUsage.version', '+', 1) })),
          )
          .execute();
      }
    }
    return { checked: rows.length, differences, fixed: Boolean(options.fix) && differences.length > 0 };
  });
}

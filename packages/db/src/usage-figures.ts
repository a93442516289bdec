import { sql } from 'kysely';
import { RowStore } from './media-rows';

/**
 * What takes up space, for the quota check and the usage figures alike (they must agree): stored
 * sizes of processed items, declared sizes of unfinished ones, of pending, processing and ready
 * rows. The `media_usage` counters hold exactly that (kept by the database on every change), a
 * figure being the sum of its shards.
 */
const BYTES_HELD = sql<string>`sum(stored_bytes + reserved_bytes)`;

export interface UsageFigure {
  key: string;
  count: number;
  bytes: number;
}

/** The sum of a school's shard versions: it grows with every change of any of its counters (migration 0013). */
const SCHOOL_VERSION = (tenant: string) =>
  sql<string>`(select coalesce(sum(version), 0)::text from media_usage where tenant = ${tenant} and scope = 'school' and key = '')`;

/**
 * Answers kept per school and grouping, each with the version it was read at, per repository: a
 * repository bound to a transaction (which may see its own uncommitted changes) keeps its own, gone
 * with it. Bounded by the figures held: a school of many subjects must not make the process hold
 * every other one's too.
 */
const MAX_FIGURES_KEPT = 200_000;
interface KeptAnswer {
  version: string;
  figures: readonly UsageFigure[];
}
const keptAnswers = new WeakMap<object, Map<string, KeptAnswer>>();

/** The usage figures, read from the counters the database keeps (`media_usage`). */
export class UsageFigures extends RowStore {
  /**
   * Usage figures from the counters: one row per purpose or subject ('' for none) holding space.
   * The last answer per school and grouping is kept and served again while the school's version
   * (read in one indexed look at its shard rows) is the one it was read at; the version moves with
   * every committed change of the school's counters, so a kept answer is never stale.
   */
  async usage(tenant: string, groupBy: 'purpose' | 'subject'): Promise<readonly UsageFigure[]> {
    let kept = keptAnswers.get(this);
    if (!kept) {
      kept = new Map();
      keptAnswers.set(this, kept);
    }
    const name = `${groupBy}\u0000${tenant}`;
    const earlier = kept.get(name);
    if (earlier) {
      const { version } = await this.db.selectNoFrom(SCHOOL_VERSION(tenant).as('version')).executeTakeFirstOrThrow();
      if (version === earlier.version) return earlier.figures;
      kept.delete(name);
    }
    // A figure is the sum of its shards (one row for a subject, several for a purpose or no subject),
    // summed in key order straight from the counters' primary key; the version in the same statement
    // is read from the same snapshot as the figures.
    const rows = await this.db
      .selectFrom('mediaUsage')
      .select(['key', sql<string>`sum(count)`.as('count'), BYTES_HELD.as('bytes'), SCHOOL_VERSION(tenant).as('version')])
      .where('tenant', '=', tenant)
      .where('scope', '=', groupBy)
      .groupBy('key')
      .having(sql`sum(count)`, '>', 0)
      // Code-point order (as before on a C.UTF-8 database), without the cost of a locale's comparison.
      .orderBy(sql`key collate "C"`)
      .execute();
    const figures = Object.freeze(rows.map((r) => Object.freeze({ key: r.key, count: Number(r.count), bytes: Number(r.bytes) })));
    const version = rows[0]?.version;
    if (version !== undefined) keep(kept, name, { version, figures });
    return figures;
  }
}

/** Kept in the order they were read; the oldest go first once the figures kept pass the bound. */
function keep(kept: Map<string, KeptAnswer>, name: string, answer: KeptAnswer): void {
  if (answer.figures.length > MAX_FIGURES_KEPT) return;
  kept.set(name, answer);
  let held = 0;
  for (const { figures } of kept.values()) held += figures.length;
  for (const [oldest, { figures }] of kept) {
    if (held <= MAX_FIGURES_KEPT) break;
    kept.delete(oldest);
    held -= figures.length;
  }
}

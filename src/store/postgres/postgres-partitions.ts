import type pg from 'pg';
import type { PostgresSession } from './postgres-connection.js';
import { StoreError, type NewEntry } from '../store.js';

/** Days of partitions kept ready beyond today, so appends normally never wait for one to be created. */
const DAYS_AHEAD = 7;
const KEEP_AHEAD_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The records table's day partitions. Those from yesterday to a week ahead are created at open
 * and then every hour; a record of another day (a caller-supplied timestamp) makes the insert
 * fail, and its day's partition is then created and the insert tried once more.
 */
export class PostgresPartitions {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: PostgresSession) {}

  async keepAhead(now = Date.now()): Promise<void> {
    const days = Array.from({ length: DAYS_AHEAD + 2 }, (_, i) => new Date(now + (i - 1) * DAY_MS).toISOString().slice(0, 10));
    await this.ensure(days);
    if (!this.timer) {
      this.timer = setInterval(() => void this.keepAhead().catch(() => undefined), KEEP_AHEAD_EVERY_MS);
      this.timer.unref();
    }
  }

  /**
   * Runs the insert of `entries` as one statement of the caller's transaction, creating the day
   * partitions it lacks if it fails for want of them: a savepoint keeps the transaction usable,
   * and the partition is made on another connection.
   */
  async insertIn(client: pg.ClientBase, query: pg.QueryConfig, entries: readonly Pick<NewEntry, 'canonical'>[]): Promise<pg.QueryResult> {
    await client.query('SAVEPOINT llm_ledger_insert');
    try {
      return await client.query(query);
    } catch (err) {
      if (!isMissingPartition(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT llm_ledger_insert');
      await this.ensure([...new Set(entries.map((e) => timeOf(e.canonical).slice(0, 10)))]);
      return await client.query(query);
    }
  }

  private async ensure(days: string[]): Promise<void> {
    await this.db.pool.query(`SELECT ${this.db.s}.ensure_partitions($1::date[])`, [days]);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function isMissingPartition(err: unknown): boolean {
  return (err as { code?: string }).code === '23514' && /no partition of relation/.test((err as Error).message);
}

/**
 * The envelope's `ts`, the partition key, without parsing the envelope: in canonical (RFC 8785)
 * JSON keys are sorted, and every top-level key after "ts" holds a plain value, so the last
 * `"ts":"` is the envelope's own (a quote inside a string is always escaped). The records table
 * checks it against the envelope anyway.
 */
export function timeOf(canonical: string): string {
  const at = canonical.lastIndexOf('"ts":"');
  if (at < 0) throw new StoreError('a record without ts cannot be stored');
  return canonical.slice(at + 6, canonical.indexOf('"', at + 6));
}

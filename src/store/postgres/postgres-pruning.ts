import { inTransaction, type PostgresSession } from './postgres-connection.js';
import { guarded } from './postgres-content.js';
import type { PrunableStore } from '../pruning.js';

/**
 * Pruning of a PostgreSQL ledger, as the retention role: it raises the horizon, drops the day
 * partitions that lie wholly below it (recorded in `dropped_partitions`), and deletes the rest of
 * the expired rows in bounded batches. The records trigger lets nothing else be deleted.
 */
export class PostgresPruning implements PrunableStore {
  constructor(private readonly db: PostgresSession) {}

  prunedBelow(): Promise<number> {
    return guarded(this.db, 'read the pruning horizon', async () => {
      const { rows } = await this.db.pool.query<{ below: number }>(`SELECT coalesce(max(below), 0) AS below FROM ${this.db.s}.pruned`);
      return rows[0]!.below;
    });
  }

  /**
   * One statement, so one snapshot: asked in two (the first record to keep, else the end of the
   * log), a batch another process committed in between lay beyond the end the second read gave,
   * and was pruned as expired although it was new.
   */
  firstKeptIndex(from: number, before: string): Promise<number> {
    const s = this.db.s;
    return guarded(this.db, 'find the first record to keep', async () => {
      const { rows } = await this.db.pool.query<{ idx: number }>(
        `SELECT coalesce((SELECT idx FROM ${s}.records WHERE idx >= $1 AND ts >= $2::timestamptz ORDER BY idx LIMIT 1), (SELECT coalesce(max(idx), -1) + 1 FROM ${s}.records)) AS idx`,
        [from, before],
      );
      return rows[0]!.idx;
    });
  }

  prune(below: number, limit: number): Promise<number> {
    const s = this.db.s;
    return guarded(this.db, 'prune records', async () => {
      // Dropping takes a short exclusive lock on the records table, so it commits on its own, before the row deletes.
      const dropped = await inTransaction(this.db.pool, this.db.roles.retention, async (client) => {
        await client.query(`INSERT INTO ${s}.pruned (below) SELECT $1::bigint WHERE $1::bigint > (SELECT coalesce(max(below), 0) FROM ${s}.pruned)`, [below]);
        const { rows } = await client.query<{ n: number }>(`SELECT ${s}.drop_pruned_partitions() AS n`);
        return rows[0]!.n;
      });
      // A record's call_events rows go with it, in the same statement (drop_pruned_partitions deletes those of the partitions it drops).
      const deleted = await inTransaction(this.db.pool, this.db.roles.retention, async (client) => {
        const sql = `WITH d AS (DELETE FROM ${s}.records WHERE (idx, ts) IN (SELECT idx, ts FROM ${s}.records WHERE idx < $1 ORDER BY idx LIMIT $2) RETURNING idx),
          e AS (DELETE FROM ${s}.call_events WHERE idx IN (SELECT idx FROM d))
          SELECT count(*)::int AS n FROM d`;
        return (await client.query<{ n: number }>(sql, [below, limit])).rows[0]!.n;
      });
      return dropped + deleted;
    });
  }
}

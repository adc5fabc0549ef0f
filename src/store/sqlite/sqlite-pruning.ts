import type { DatabaseSync } from 'node:sqlite';
import type { PrunableStore } from '../pruning.js';
import type { SqliteWriterThread } from './sqlite-writer.js';

/** Pruning of a SQLite ledger: reads on the caller's connection, deletes by the writer thread. */
export class SqlitePruning implements PrunableStore {
  constructor(
    private readonly db: DatabaseSync,
    private readonly writer: SqliteWriterThread,
  ) {}

  async prunedBelow(): Promise<number> {
    return (this.db.prepare('SELECT coalesce(max(below), 0) AS below FROM pruned').get() as { below: number }).below;
  }

  async firstKeptIndex(from: number, before: string): Promise<number> {
    // One statement, so one snapshot: asked in two, a batch the writer thread committed in
    // between lay beyond the end the second read gave, and was pruned as expired although new.
    // Walks the primary key from `from`: its cost is the number of expired records, the work pruning does anyway.
    const sql =
      'SELECT coalesce((SELECT idx FROM records WHERE idx >= ? AND +ts >= ? ORDER BY idx LIMIT 1), (SELECT coalesce(max(idx), -1) + 1 FROM records)) AS idx';
    return (this.db.prepare(sql).get(from, before) as { idx: number }).idx;
  }

  prune(below: number, limit: number): Promise<number> {
    return this.writer.request<number>({ op: 'prune', below, limit });
  }
}

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { Envelope, LoggedRecord } from '../record/types.js';
import { SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { SqliteWriterThread } from './sqlite-writer.js';
import { scanLeavesInParallel } from './sqlite-leaf-scan.js';
import { hashLeafInput, LeafBatchBuilder, type LeafBatch } from './leaf-scan.js';
import { availableParallelism } from 'node:os';
import { StoreError, type AppendEntry, type SearchFilter, type SearchPage, type Store, type StoredCheckpoint } from './store.js';

/** SearchFilter field -> generated column; one place so search and scan agree. */
const FILTER_COLUMNS = {
  model: 'model',
  provider: 'provider',
  user: 'user_id',
  session: 'session_id',
  conversation: 'conversation_id',
  status: 'status',
  kind: 'kind',
  eventType: 'event_type',
  traceId: 'trace_id',
  requestId: 'request_id',
} as const satisfies Partial<Record<keyof SearchFilter, string>>;

/**
 * Opens (and on first use creates) a SQLite ledger file in WAL mode with append-only triggers.
 * Reads use a connection on the calling thread; appends go to a writer thread (WAL lets both run).
 */
export function openSqliteStore(path: string, options: { parallelScanFrom?: number } = {}): SqliteStore {
  // A writer thread cannot share an in-memory database; the memory store is the in-memory ledger.
  if (path === ':memory:') throw new StoreError("SQLite needs a file; for a ledger kept in memory use store.type: memory");
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${file} was written by a newer llm-ledger (schema ${version}); upgrade llm-ledger to read it`);
    }
    // Only a new (or older) file gets the schema: re-creating an index that someone dropped would
    // fail on tampered rows and keep `verify` from ever reporting them.
    if (version < SQLITE_SCHEMA_VERSION) db.exec(SQLITE_SCHEMA);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open SQLite ledger ${file}: ${(err as Error).message}`, { cause: err });
  }
  return new SqliteStore(db, file, new SqliteWriterThread(file), options.parallelScanFrom ?? PARALLEL_SCAN_FROM);
}

/** Below this many rows, starting threads costs more than it saves. */
const PARALLEL_SCAN_FROM = 50_000;

export class SqliteStore implements Store {
  readonly location: string;

  constructor(
    private readonly db: DatabaseSync,
    private readonly file: string,
    private readonly writer: SqliteWriterThread,
    private readonly parallelScanFrom: number,
  ) {
    this.location = `sqlite:${file}`;
  }

  async append(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint): Promise<void> {
    try {
      await this.writer.append(entries, checkpoint);
    } catch (err) {
      throw new StoreError(`cannot append to ${this.location}: ${(err as Error).message}`, { cause: err });
    }
  }

  async size(): Promise<number> {
    const row = this.db.prepare('SELECT max(idx) AS last FROM records').get() as { last: number | null };
    return row.last === null ? 0 : row.last + 1;
  }

  async leafHashes(from: number, to: number): Promise<Buffer[]> {
    const rows = this.db.prepare('SELECT hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to) as { hash: Uint8Array }[];
    return rows.map((r) => Buffer.from(r.hash.buffer, r.hash.byteOffset, r.hash.byteLength));
  }

  async *scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    const last = (await this.size()) - 1;
    if (last + 1 >= this.parallelScanFrom) {
      yield* scanLeavesInParallel(this.file, last, availableParallelism(), batchSize);
      return;
    }
    // SQLite prepends the leaf prefix and joins the committed leaf: one pass, no copies in JavaScript.
    const stmt = this.db.prepare(
      "SELECT r.idx, X'00' || CAST(r.envelope AS BLOB), l.hash FROM records r LEFT JOIN leaves l ON l.idx = r.idx ORDER BY r.idx",
    );
    stmt.setReturnArrays(true);
    const builder = new LeafBatchBuilder(batchSize);
    for (const [index, leafInput, committedLeaf] of stmt.iterate() as unknown as Iterable<[number, Uint8Array, Uint8Array | null]>) {
      const batch = builder.add(index, hashLeafInput(leafInput), committedLeaf);
      if (batch) yield batch;
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  async getById(id: string): Promise<LoggedRecord | undefined> {
    const row = this.db.prepare('SELECT idx, envelope FROM records WHERE id = ?').get(id) as StoredRow | undefined;
    return row && toLogged(row);
  }

  async search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]> {
    const { where, params } = whereClause(filter);
    if (page.beforeIndex !== undefined) {
      where.push('idx < ?');
      params.push(page.beforeIndex);
    }
    const sql = `SELECT idx, envelope FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY idx DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, page.limit) as unknown as StoredRow[]).map(toLogged);
  }

  async *scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    const { where, params } = whereClause(filter);
    const sql = `SELECT idx, envelope FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY idx`;
    for await (const batch of batches(this.db.prepare(sql).iterate(...params) as Iterable<StoredRow>, batchSize)) {
      yield batch.map(toLogged);
    }
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.db.prepare('SELECT size, note FROM checkpoints ORDER BY seq').all() as unknown as StoredCheckpoint[];
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.isOpen) this.db.close();
  }
}

interface StoredRow {
  idx: number;
  envelope: string;
}

function toLogged(row: StoredRow): LoggedRecord {
  return { index: row.idx, envelope: JSON.parse(row.envelope) as Envelope };
}

function whereClause(filter: SearchFilter): { where: string[]; params: SQLInputValue[] } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  for (const [field, column] of Object.entries(FILTER_COLUMNS)) {
    const value = filter[field as keyof typeof FILTER_COLUMNS];
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (filter.since !== undefined) {
    where.push('ts >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push('ts < ?');
    params.push(filter.until);
  }
  if (filter.keyPrefix !== undefined) {
    // A range rather than LIKE: LIKE ignores case and cannot use the index.
    where.push('api_key_prefix >= ? AND api_key_prefix < ?');
    params.push(filter.keyPrefix, `${filter.keyPrefix}\u{10ffff}`);
  }
  return { where, params };
}

async function* batches<T>(rows: Iterable<T>, size: number): AsyncIterable<T[]> {
  let batch: T[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

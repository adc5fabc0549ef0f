import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Envelope, LoggedRecord } from '../../record/types.js';
import { RECORD_STATUSES } from '../../record/types.js';
import { ROUTINE_EVENT_TYPES } from '../../record/call-events.js';
import {
  CALL_STATS_COLUMNS,
  missingColumnsSql,
  NUMERIC_FIELDS,
  SQLITE_CALL_STATS_SCHEMA,
  SQLITE_HEAD_FRONTIER,
  SQLITE_HEAD_SCHEMA,
  SQLITE_SCHEMA,
  SQLITE_SCHEMA_VERSION,
  SQLITE_CALL_EVENTS_SCHEMA,
  EVENTS_UNINDEXED,
  EVENTS_NOT_CARRIED,
} from './sqlite-schema.js';
import { eventIndexProblems } from '../event-index-check.js';
import { StatsColumnsBuilder, statusCode, type SelectedStatsRow } from '../stats-columns.js';
import { SqliteWriterThread } from './sqlite-writer.js';
import { SqliteContentStore } from './sqlite-content.js';
import { SQLITE_CONTENT_SCHEMA } from './sqlite-content-schema.js';
import { RECORDS_DELETE_TRIGGER, SQLITE_PRUNE_SCHEMA } from './sqlite-prune-schema.js';
import { SqlitePruning } from './sqlite-pruning.js';
import { scanLeavesInParallel } from './sqlite-leaf-scan.js';
import { blockStatsColumns, type IndexRange } from './sqlite-stats-block-reader.js';
import { STATS_BLOCKS_SCHEMA } from './sqlite-stats-blocks.js';
import { checkSqliteStatsCopies } from './sqlite-stats-check.js';
import { copiesExpression, hashLeafInput, LeafBatchBuilder, type LeafBatch } from '../leaf-scan.js';
import { availableParallelism } from 'node:os';
import {
  StoreError,
  type Appended,
  type AppendRequest,
  type NewEntry,
  type SearchFilter,
  type SearchPage,
  type StatsColumns,
  type StatsColumnsRequest,
  type StatsCopiesCheck,
  type StatsGroupField,
  type Store,
  type StoredCheckpoint,
} from '../store.js';

/** SearchFilter field -> generated column; one place so search and scan agree. */
const FILTER_COLUMNS = {
  model: 'model',
  provider: 'provider',
  user: 'user_id',
  session: 'session_id',
  conversation: 'conversation_id',
  status: 'status',
  kind: 'kind',
  traceId: 'trace_id',
  requestId: 'request_id',
} as const satisfies Partial<Record<keyof SearchFilter, string>>;

/**
 * The page size of new files. A call's record (format 2) is 1.4-2.2 KB of JSON: a 4 KB page holds
 * one or two of them and leaves up to half of itself empty (a three-policy call took 4.1 KB of
 * records table at 4 KB pages, 2.4 KB at 16 KB, measured on 1,000 gateway calls by VACUUM INTO at
 * each size). Files made before keep the size they were made with.
 */
const NEW_FILE_PAGE_SIZE = 16384;

/**
 * Opens (and on first use creates) a SQLite ledger file in WAL mode with append-only triggers.
 * Reads use a connection on the calling thread; appends go to a writer thread (WAL lets both run).
 */
export function openSqliteStore(path: string, options: { parallelScanFrom?: number; statsBlockCalls?: number } = {}): SqliteStore {
  // A writer thread cannot share an in-memory database; the memory store is the in-memory ledger.
  if (path === ':memory:') throw new StoreError('SQLite needs a file; for a ledger kept in memory use store.type: memory');
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file);
    // A new file only (SQLite ignores it once a file has pages): see NEW_FILE_PAGE_SIZE.
    db.exec(`PRAGMA page_size = ${NEW_FILE_PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;`);
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${file} was written by a newer llm-ledger (schema ${version}); upgrade llm-ledger to read it`);
    }
    // Only a new (or older) file gets the schema: re-creating an index that someone dropped would
    // fail on tampered rows and keep `verify` from ever reporting them.
    if (version < SQLITE_SCHEMA_VERSION) {
      if (version > 0) db.exec(missingColumnsSql(new Set((db.prepare('PRAGMA table_xinfo(records)').all() as { name: string }[]).map((c) => c.name))));
      db.exec(SQLITE_SCHEMA);
    }
    db.exec(SQLITE_CONTENT_SCHEMA);
    db.exec(SQLITE_HEAD_SCHEMA);
    addHeadFrontier(db);
    allowPruning(db);
    addCallStats(db);
    addCallEvents(db);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open SQLite ledger ${file}: ${(err as Error).message}`, { cause: err });
  }
  return new SqliteStore(db, file, new SqliteWriterThread(file, options.statsBlockCalls), options.parallelScanFrom ?? PARALLEL_SCAN_FROM);
}

/** Adds the frontier column to a head table from before it; another process opening the file may have just done so. */
function addHeadFrontier(db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(head)').all() as { name: string }[];
  if (columns.some((c) => c.name === 'frontier')) return;
  try {
    db.exec(SQLITE_HEAD_FRONTIER);
  } catch (err) {
    if (!/duplicate column/.test((err as Error).message)) throw err;
  }
}

/** Adds the pruning horizon to a file that lacks it, and lets retention delete below it. */
function allowPruning(db: DatabaseSync): void {
  const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'records_no_delete'").get() as { sql: string } | undefined;
  if (trigger?.sql === RECORDS_DELETE_TRIGGER && hasTable(db, 'pruned')) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(SQLITE_PRUNE_SCHEMA);
    // Replaced only where it stands unchanged from an older version: a trigger someone dropped stays dropped, for verify to judge.
    if (trigger && trigger.sql !== RECORDS_DELETE_TRIGGER) db.exec(`DROP TRIGGER records_no_delete; ${RECORDS_DELETE_TRIGGER};`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Adds the call_stats table, filled from the records already there, to a file that lacks it. If
 * that fails (a tampered row that is not JSON), the file stays as it was: stats then read the
 * records themselves, and `verify` still gets to report the row. Then adds the table of its packed
 * blocks where it is missing; the writer thread fills it (sqlite-stats-blocks.ts).
 */
function addCallStats(db: DatabaseSync): void {
  if (!hasTable(db, 'call_stats')) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(SQLITE_CALL_STATS_SCHEMA);
      db.exec('COMMIT');
    } catch {
      db.exec('ROLLBACK');
    }
  }
  if (hasTable(db, 'call_stats') && !hasTable(db, 'call_stats_blocks')) db.exec(STATS_BLOCKS_SCHEMA);
}

/** Adds the index of the events records carry to a file that lacks it (every file from before format 2). */
function addCallEvents(db: DatabaseSync): void {
  if (hasTable(db, 'call_events')) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Another process may have added it between the look and the lock.
    if (!hasTable(db, 'call_events')) db.exec(SQLITE_CALL_EVENTS_SCHEMA);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

function hasTable(db: DatabaseSync, name: 'pruned' | 'call_stats' | 'call_stats_blocks' | 'call_events'): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Below this many rows, starting threads costs more than it saves. */
const PARALLEL_SCAN_FROM = 50_000;

export class SqliteStore implements Store {
  readonly location: string;
  readonly content: SqliteContentStore;
  readonly pruning: SqlitePruning;
  private plans: string[] | undefined;

  constructor(
    private readonly db: DatabaseSync,
    private readonly file: string,
    private readonly writer: SqliteWriterThread,
    private readonly parallelScanFrom: number,
  ) {
    this.location = `sqlite:${file}`;
    this.content = new SqliteContentStore(db, writer);
    this.pruning = new SqlitePruning(db, writer);
  }

  /** Not async, like the writer thread's append: an async function would keep `entries` alive until the commit (see Ledger.submit). */
  append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    return this.writer.append(entries, request).catch((err: unknown) => {
      throw new StoreError(`cannot append to ${this.location}: ${(err as Error).message}`, { cause: err });
    });
  }

  async size(): Promise<number> {
    return this.nextIndex();
  }

  async leafHashes(from: number, to: number): Promise<Buffer[]> {
    const rows = this.db.prepare('SELECT hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to) as { hash: Uint8Array }[];
    return rows.map((r) => Buffer.from(r.hash.buffer, r.hash.byteOffset, r.hash.byteLength));
  }

  async *scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    const last = (await this.size()) - 1;
    // The copies kept beside each record (its id column, its stats row, its events' index rows) are held against it in the same pass.
    const withCallStats = hasTable(this.db, 'call_stats');
    const eventsCheck = hasTable(this.db, 'call_events') ? EVENTS_UNINDEXED : undefined;
    const copies = {
      expression: copiesExpression(withCallStats, CALL_STATS_COLUMNS, eventsCheck),
      join: withCallStats ? 'LEFT JOIN call_stats c ON c.idx = r.idx' : '',
    };
    if (last + 1 >= this.parallelScanFrom) {
      yield* scanLeavesInParallel(this.file, last, availableParallelism(), batchSize, copies);
      return;
    }
    // SQLite prepends the leaf prefix and joins the committed leaf: one pass, no copies in JavaScript.
    const stmt = this.db.prepare(
      `SELECT r.idx, X'00' || CAST(r.envelope AS BLOB), l.hash, ${copies.expression} FROM records r LEFT JOIN leaves l ON l.idx = r.idx ${copies.join} ORDER BY r.idx`,
    );
    stmt.setReturnArrays(true);
    const builder = new LeafBatchBuilder(batchSize);
    for (const [index, leafInput, committedLeaf, copiesDiffer] of stmt.iterate() as unknown as Iterable<[number, Uint8Array, Uint8Array | null, number]>) {
      const batch = builder.add(index, hashLeafInput(leafInput), committedLeaf, copiesDiffer);
      if (batch) yield batch;
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  async getById(id: string): Promise<LoggedRecord | undefined> {
    const row = this.db.prepare('SELECT idx, envelope FROM records WHERE id = ?').get(id) as StoredRow | undefined;
    return row && toLogged(row);
  }

  /**
   * Newest first. Every single filter is answered by walking one index backwards from the cursor
   * (checked with EXPLAIN QUERY PLAN in sqlite-search.test.ts); the two that an index cannot
   * deliver in log order get a plan of their own: a key prefix that several stored prefixes share,
   * and a time range alone.
   */
  async search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]> {
    if (filter.keyPrefix !== undefined) {
      const prefixes = this.storedKeyPrefixes(filter.keyPrefix);
      if (prefixes) return this.searchEachKeyPrefix(filter, prefixes, page);
    }
    if (isTimeRangeOnly(filter)) return this.searchTimeRange(filter, page);
    return this.searchRows(whereClause(filter), page).map(toLogged);
  }

  private searchRows({ where, params }: Where, page: SearchPage, lowestIndex?: number): StoredRow[] {
    const conditions = [...where];
    const values = [...params];
    if (page.beforeIndex !== undefined) {
      conditions.push('idx < ?');
      values.push(page.beforeIndex);
    }
    if (lowestIndex !== undefined) {
      conditions.push('idx >= ?');
      values.push(lowestIndex);
    }
    const sql = `SELECT idx, envelope FROM records ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY idx DESC LIMIT ?`;
    return this.prepareQuery(sql).all(...values, page.limit) as unknown as StoredRow[];
  }

  /**
   * The distinct stored prefixes starting with `prefix`, found by one index seek each; undefined
   * when there are too many to merge (then SQLite sorts the whole prefix range instead).
   */
  private storedKeyPrefixes(prefix: string): string[] | undefined {
    const first = this.prepareQuery('SELECT min(api_key_prefix) AS v FROM records WHERE api_key_prefix >= ? AND api_key_prefix < ?');
    const next = this.prepareQuery('SELECT min(api_key_prefix) AS v FROM records WHERE api_key_prefix > ? AND api_key_prefix < ?');
    const end = `${prefix}\u{10ffff}`;
    const found: string[] = [];
    let row = first.get(prefix, end) as { v: string | null } | undefined;
    while (row?.v != null) {
      if (found.length === MAX_MERGED_KEY_PREFIXES) return undefined;
      found.push(row.v);
      row = next.get(row.v, end) as { v: string | null } | undefined;
    }
    return found;
  }

  /** One backwards index walk per stored prefix, merged: each walk is already in log order. */
  private searchEachKeyPrefix(filter: SearchFilter, prefixes: string[], page: SearchPage): LoggedRecord[] {
    const { keyPrefix: _, ...rest } = filter;
    const rows = prefixes.flatMap((prefix) => {
      const { where, params } = whereClause(rest, { narrowTermAdded: true });
      return this.searchRows({ where: [...where, 'api_key_prefix = ?'], params: [...params, prefix] }, page);
    });
    return rows
      .sort((a, b) => b.idx - a.idx)
      .slice(0, page.limit)
      .map(toLogged);
  }

  /**
   * A time range alone: the ts index yields rows in time order, not log order. Recent records
   * usually match, so the newest rows below the cursor are checked first (a short walk); only if
   * they do not fill the page is the rest of the range read from the ts index (no envelope is
   * parsed) and the page's rows fetched by index.
   */
  private searchTimeRange(filter: SearchFilter, page: SearchPage): LoggedRecord[] {
    const where = whereClause(filter);
    const top = page.beforeIndex ?? this.nextIndex();
    const recentFloor = Math.max(0, top - RECENT_ROWS_FIRST);
    const recent = this.searchRows(where, page, recentFloor);
    if (recent.length === page.limit || recentFloor === 0) return recent.map(toLogged);
    let older: number[];
    try {
      const sql = `SELECT idx FROM records INDEXED BY records_ts WHERE ${where.where.join(' AND ')} AND idx < ? ORDER BY idx DESC LIMIT ?`;
      const stmt = this.prepareQuery(sql);
      stmt.setReturnArrays(true);
      older = (stmt.all(...where.params, recentFloor, page.limit - recent.length) as unknown as [number][]).map(([idx]) => idx);
    } catch {
      // The ts index is gone (someone dropped it): answer without it, slowly but correctly.
      return this.searchRows(where, page).map(toLogged);
    }
    if (older.length === 0) return recent.map(toLogged);
    const fetch = this.prepareQuery(`SELECT idx, envelope FROM records WHERE idx IN (${older.map(() => '?').join(',')}) ORDER BY idx DESC`);
    return [...recent, ...(fetch.all(...older) as unknown as StoredRow[])].map(toLogged);
  }

  private nextIndex(): number {
    const row = this.db.prepare('SELECT max(idx) AS last FROM records').get() as { last: number | null };
    return row.last === null ? 0 : row.last + 1;
  }

  /**
   * In log order without a sort, whatever the filter: a sort would hold every matching envelope
   * (an export can be millions). A time range is first turned into the span of log indexes it
   * covers (read from the ts index alone), then that span is walked in order.
   */
  async *scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    const span = this.timeSpan(filter);
    if (span === null) return;
    const { where, params } = whereClause(filter, { timeIsNarrow: true, timeUnindexed: span !== undefined });
    if (span) {
      where.push('idx >= ? AND idx <= ?');
      params.push(span.first, span.last);
    }
    const sql = `SELECT idx, envelope FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY idx`;
    for await (const batch of batches(this.prepareQuery(sql).iterate(...params) as Iterable<StoredRow>, batchSize)) {
      yield batch.map(toLogged);
    }
  }

  /**
   * The smallest and largest log index in the filter's time range, from the ts index alone;
   * undefined when the filter has no time range (or the index is gone), null when nothing is in it.
   */
  private timeSpan(filter: SearchFilter): { first: number; last: number } | null | undefined {
    if (filter.since === undefined && filter.until === undefined) return undefined;
    const { where, params } = whereClause({ since: filter.since, until: filter.until });
    try {
      const row = this.prepareQuery(`SELECT min(idx) AS first, max(idx) AS last FROM records INDEXED BY records_ts WHERE ${where.join(' AND ')}`).get(
        ...params,
      ) as {
        first: number | null;
        last: number | null;
      };
      return row.first === null || row.last === null ? null : { first: row.first, last: row.last };
    } catch {
      return undefined; // The ts index was dropped: the walk checks every row's time instead.
    }
  }

  /**
   * Reads only columns, never an envelope into JavaScript: for llm.call records filtered on what
   * call_stats copies (time, model, provider, user, status), from its packed blocks and the calls
   * not in one from call_stats itself; else from the generated columns of records. No ORDER BY,
   * so a narrow time range is read through an index.
   */
  async *statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns> {
    if (!readsCallStats(filter) || !hasTable(this.db, 'call_stats')) {
      yield* this.statsRows('records', filter, request);
      return;
    }
    // Every row of call_stats is an llm.call: its filter needs no kind.
    const calls = { ...filter, kind: undefined };
    const ranges: IndexRange[] = [];
    if (hasTable(this.db, 'call_stats_blocks')) {
      for (const batch of blockStatsColumns((sql) => this.prepareQuery(sql), calls, request, ranges)) {
        yield batch;
        // Give the event loop a turn now and then: this runs synchronously on the caller's thread.
        await new Promise(setImmediate);
      }
    } else {
      // call_stats has no ts index; the records' one gives the index range to read.
      const span = this.timeSpan(filter);
      if (span === null) return;
      ranges.push(span ?? { first: 0, last: Number.MAX_SAFE_INTEGER });
    }
    yield* this.statsRows('call_stats', calls, request, ranges);
  }

  /** Stats columns stepped through row by row, from `table` (within the index ranges, if given). */
  private async *statsRows(
    table: 'records' | 'call_stats',
    filter: SearchFilter,
    request: StatsColumnsRequest,
    ranges?: IndexRange[],
  ): AsyncIterable<StatsColumns> {
    const { where, params } = whereClause(filter, { timeIsNarrow: true });
    if (ranges) where.push('idx BETWEEN ? AND ?');
    const columns = [STATUS_CODE, ...Object.keys(NUMERIC_FIELDS)];
    if (request.groupBy) columns.push(GROUP_COLUMNS[request.groupBy]);
    if (request.withTime) columns.push(`unixepoch(ts, 'subsec') * 1000`);
    const sql = `SELECT ${columns.join(', ')} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const stmt = this.prepareQuery(sql);
    stmt.setReturnArrays(true);
    const builder = new StatsColumnsBuilder(request);
    let rows = 0;
    for (const range of ranges ?? [undefined]) {
      const bounds = range ? [range.first, range.last] : [];
      for (const r of stmt.iterate(...params, ...bounds) as unknown as Iterable<SelectedStatsRow>) {
        const batch = builder.pushSelected(r);
        if (batch) yield batch;
        if (++rows % request.batchSize === 0) await new Promise(setImmediate);
      }
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  /** Where stats read call_stats, whether it and its blocks agree with the records (see sqlite-stats-check.ts). */
  async checkEventIndex(options: { rowsScanned?: boolean } = {}): Promise<string[]> {
    if (!hasTable(this.db, 'call_events')) return [];
    const named = (sql: string) => (this.db.prepare(`${sql} LIMIT 6`).all() as { idx: number }[]).map((row) => row.idx);
    const unindexed = options.rowsScanned ? [] : named(`SELECT r.idx FROM records r WHERE json_valid(r.envelope) AND ${EVENTS_UNINDEXED} ORDER BY 1`);
    return eventIndexProblems(unindexed, named(EVENTS_NOT_CARRIED));
  }

  async checkStatsCopies(options: { rowsScanned?: boolean } = {}): Promise<StatsCopiesCheck | undefined> {
    return hasTable(this.db, 'call_stats') ? checkSqliteStatsCopies(this.db, hasTable(this.db, 'call_stats_blocks'), options.rowsScanned === true) : undefined;
  }

  /**
   * The query plans (EXPLAIN QUERY PLAN) of the search and stats statements that `query` runs:
   * how tests check that each search filter walks an index, and a way to diagnose a slow query.
   */
  async explain(query: () => Promise<unknown>): Promise<string[]> {
    this.plans = [];
    try {
      await query();
      return this.plans;
    } finally {
      this.plans = undefined;
    }
  }

  private prepareQuery(sql: string): StatementSync {
    if (this.plans) {
      const steps = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
      this.plans.push(steps.map((step) => step.detail).join('; '));
    }
    return this.db.prepare(sql);
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.db.prepare('SELECT size, note FROM checkpoints ORDER BY seq').all() as unknown as StoredCheckpoint[];
  }

  async head(): Promise<StoredCheckpoint | undefined> {
    const row = this.db.prepare('SELECT size, note FROM head').get() as StoredCheckpoint | undefined;
    return row && { size: row.size, note: row.note };
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.isOpen) this.db.close();
  }
}

/** Below this many rows, merging one index walk per stored key prefix beats one sort of the whole range. */
const MAX_MERGED_KEY_PREFIXES = 64;
/** A time-range search first checks this many of the newest rows below the cursor. */
const RECENT_ROWS_FIRST = 2048;

const STATUS_CODE = `CASE status ${RECORD_STATUSES.map((status) => `WHEN '${status}' THEN ${statusCode(status)}`).join(' ')} ELSE 0 END`;

const GROUP_COLUMNS: Record<StatsGroupField, string> = { model: 'model', user: 'user_id', provider: 'provider', day: 'substr(ts, 1, 10)' };

interface Where {
  where: string[];
  params: SQLInputValue[];
}

/** Stats of llm.call records filtered only on what call_stats copies can read that narrow table. */
function readsCallStats(filter: SearchFilter): boolean {
  if (filter.kind !== 'llm.call') return false;
  return Object.entries(filter).every(([key, value]) => value === undefined || CALL_STATS_FILTERS.has(key));
}
const CALL_STATS_FILTERS = new Set(['kind', 'since', 'until', 'model', 'provider', 'user', 'status']);

function isTimeRangeOnly(filter: SearchFilter): boolean {
  const set = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key);
  return set.length > 0 && set.every((key) => key === 'since' || key === 'until');
}

interface StoredRow {
  idx: number;
  envelope: string;
}

function toLogged(row: StoredRow): LoggedRecord {
  return { index: row.idx, envelope: JSON.parse(row.envelope) as Envelope };
}

/** Columns with few distinct values: walking one of their indexes visits most of the log. */
const BROAD_COLUMNS: ReadonlySet<string> = new Set(['kind', 'status', 'provider']);

interface WhereOptions {
  /** The caller adds a narrow term of its own (one stored key prefix). */
  narrowTermAdded?: boolean;
  /** A time range narrows more than a broad column does (true when nothing needs log order). */
  timeIsNarrow?: boolean;
  /** Leave the time range unindexable: the caller bounds it by an index range instead. */
  timeUnindexed?: boolean;
}

/**
 * The SQL terms of a filter. SQLite has no statistics here (ANALYZE would write to the file), so
 * it takes any equality over a range and cannot tell `kind = 'llm.call'` (nearly every row) from
 * `user_id = 'alice'`. Terms on broad columns are therefore written `+column = ?`, which SQLite
 * cannot answer from an index, whenever a narrower term exists to walk instead.
 */
function whereClause(filter: SearchFilter, options: WhereOptions = {}): Where {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const set = (field: keyof SearchFilter) => filter[field] !== undefined;
  const hasTime = set('since') || set('until');
  const notableEvent = filter.eventType !== undefined && !ROUTINE_EVENT_TYPES.has(filter.eventType);
  const narrow =
    options.narrowTermAdded === true ||
    set('keyPrefix') ||
    notableEvent ||
    Object.entries(FILTER_COLUMNS).some(([field, column]) => !BROAD_COLUMNS.has(column) && set(field as keyof SearchFilter)) ||
    (options.timeIsNarrow === true && hasTime);
  for (const [field, column] of Object.entries(FILTER_COLUMNS)) {
    const value = filter[field as keyof typeof FILTER_COLUMNS];
    if (value === undefined) continue;
    where.push(`${narrow && BROAD_COLUMNS.has(column) ? '+' : ''}${column} = ?`);
    params.push(value);
  }
  if (filter.eventType !== undefined) eventTypeTerm(filter.eventType, notableEvent, where, params);
  const ts = options.timeUnindexed ? '+ts' : 'ts';
  if (filter.since !== undefined) {
    where.push(`${ts} >= ?`);
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push(`${ts} < ?`);
    params.push(filter.until);
  }
  if (filter.keyPrefix !== undefined) {
    // A range rather than LIKE: LIKE ignores case and cannot use the index.
    where.push('api_key_prefix >= ? AND api_key_prefix < ?');
    params.push(filter.keyPrefix, `${filter.keyPrefix}\u{10ffff}`);
  }
  return { where, params };
}

/**
 * Records that are, or carry, an event of a type: a version 1 event record through the event_type
 * column; a record carrying it through call_events (both index seeks), or, for a routine type that
 * nearly every call carries and no index holds, by reading the events of the newest records first.
 */
function eventTypeTerm(type: string, notable: boolean, where: string[], params: SQLInputValue[]): void {
  if (notable) {
    where.push('idx IN (SELECT idx FROM records WHERE event_type = ? UNION ALL SELECT idx FROM call_events WHERE event_type = ?)');
    params.push(type, type);
    return;
  }
  where.push(`(event_type = ? OR (instr(envelope, ?) > 0 AND EXISTS (SELECT 1 FROM json_each(envelope, '$.events') WHERE value ->> '$.type' = ?)))`);
  params.push(type, `"type":${JSON.stringify(type)}`, type);
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

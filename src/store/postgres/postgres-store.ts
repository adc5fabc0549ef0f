import type pg from 'pg';
import type { StoredSeal } from '../../log/batch-seal.js';
import type { Envelope, LoggedRecord } from '../../record/types.js';
import { LeafBatchBuilder, type LeafBatch } from '../leaf-scan.js';
import { appendBatch } from './postgres-append.js';
import {
  Deadline,
  DEFAULT_APPEND_TIMEOUT_MS,
  inTransaction,
  openClient,
  openPool,
  postgresLocation,
  type PostgresOptions,
  type PostgresSession,
} from './postgres-connection.js';
import { guarded, PostgresContentStore } from './postgres-content.js';
import { cursorBatches } from './postgres-cursor.js';
import { migrate } from './postgres-migrate.js';
import { PostgresPartitions } from './postgres-partitions.js';
import { PostgresPruning } from './postgres-pruning.js';
import { statsSelect, whereOf } from './postgres-query.js';
import { indexedEventRows, rolesOf } from './postgres-schema.js';
import { readSeals } from './postgres-seals.js';
import { eventIndexProblems } from '../event-index-check.js';
import { StatsColumnsBuilder, type SelectedStatsRow } from '../stats-columns.js';
import {
  StoreError,
  type Appended,
  type AppendRequest,
  type NewEntry,
  type SearchFilter,
  type SearchPage,
  type StatsColumns,
  type StatsColumnsRequest,
  type Store,
  type StoredCheckpoint,
} from '../store.js';

/** Leaf hashes read per query when they are all read (a round trip each, so many at once). */
const LEAF_BATCH = 50_000;

/**
 * Opens a ledger in a PostgreSQL schema. Returns at once; migrations run in the background and
 * every call waits for them, so a store that cannot be reached or migrated fails its first call
 * (the ledger's first call is at open) with a StoreError that says why.
 */
export function openPostgresStore(options: PostgresOptions): PostgresStore {
  return new PostgresStore(options);
}

/**
 * A ledger in a PostgreSQL schema that any number of processes append to at once: each batch is
 * sequenced under the log head's row lock, inside its own transaction (see appendBatch).
 */
export class PostgresStore implements Store {
  readonly location: string;
  readonly leafBatch = LEAF_BATCH;
  readonly content: PostgresContentStore;
  readonly pruning: PostgresPruning;
  private readonly pool: pg.Pool;
  private readonly session: PostgresSession;
  private readonly partitions: PostgresPartitions;
  private readonly started: Promise<void>;
  private readonly s: string;
  /** Appends run one after another, in call order. */
  private appending: Promise<unknown> = Promise.resolve();
  private plans: string[] | undefined;

  constructor(private readonly options: PostgresOptions) {
    const roles = rolesOf(options.schema);
    this.location = postgresLocation(options.url, options.schema);
    this.s = `"${options.schema}"`;
    this.pool = openPool(options, roles.writer);
    this.session = { pool: this.pool, s: this.s, roles, location: this.location, ready: () => this.started };
    this.partitions = new PostgresPartitions(this.session);
    this.content = new PostgresContentStore(this.session);
    this.pruning = new PostgresPruning(this.session);
    this.started = this.start(options);
    this.started.catch(() => undefined);
  }

  private async start(options: PostgresOptions): Promise<void> {
    const client = openClient(options);
    try {
      await client.connect();
      await migrate(client, options.schema);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot open ${this.location}: ${(err as Error).message}`, { cause: err });
    } finally {
      await client.end().catch(() => undefined);
    }
    try {
      await this.partitions.keepAhead();
    } catch (err) {
      throw new StoreError(`cannot open ${this.location}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * One transaction on one connection: the log head locked, the batch sequenced after it, and
   * records, leaves, content, call_events rows, the new head and the optional checkpoint in one statement (see
   * appendBatch). Other processes' batches wait for the head's lock and land after this one.
   */
  append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    const deadline = this.appendDeadline();
    const run = this.appending.then(() =>
      guarded(this.session, 'append', () => {
        if (deadline.passed) throw deadline.error();
        return inTransaction(
          this.pool,
          undefined,
          (client) => appendBatch(client, this.s, entries, request, (query, batch) => this.partitions.insertIn(client, query, batch)),
          deadline,
        );
      }),
    );
    this.appending = run.catch(() => undefined);
    return deadline.race(run);
  }

  /**
   * An append's time limit runs from its call, so one queued behind appends that hang fails in
   * time too (and is then never started). The limit rejects the caller at once and closes the
   * append's connection, so the head's lock is released and the appends behind it go on from there.
   */
  private appendDeadline(): Deadline {
    return new Deadline(this.options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS, `cannot append in ${this.location}`, 'store.append_timeout_ms');
  }

  size(): Promise<number> {
    return guarded(this.session, 'read the log size', () => this.readSize());
  }

  private async readSize(): Promise<number> {
    const { rows } = await this.pool.query<{ last: number | null }>(`SELECT max(idx) AS last FROM ${this.s}.records`);
    return (rows[0]?.last ?? -1) + 1;
  }

  leafHashes(from: number, to: number): Promise<Buffer[]> {
    return guarded(this.session, 'read leaf hashes', async () => {
      const { rows } = await this.pool.query<[Buffer]>({
        text: `SELECT hash FROM ${this.s}.leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
        values: [from, to],
        rowMode: 'array',
      });
      return rows.map(([hash]) => hash);
    });
  }

  /** PostgreSQL hashes each row where it lies and compares it with the committed leaf: only 64 bytes a row cross the wire. */
  async *scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    // leaves.id is the copy lookups by id go through: held against the envelope's own id.
    const sql = `SELECT r.idx, sha256('\\x00'::bytea || convert_to(r.canonical, 'UTF8')), l.hash, l.id IS DISTINCT FROM r.envelope ->> 'id'
      FROM ${this.s}.records r LEFT JOIN ${this.s}.leaves l ON l.idx = r.idx ORDER BY r.idx`;
    const builder = new LeafBatchBuilder(batchSize);
    for await (const rows of this.cursor('scan leaves', sql, [], batchSize)) {
      for (const [index, leaf, committed, idDiffers] of rows as [number, Buffer, Buffer | null, boolean][]) {
        const batch = builder.add(index, leaf, committed, idDiffers ? 1 : 0);
        if (batch) yield batch;
      }
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  getById(id: string): Promise<LoggedRecord | undefined> {
    return guarded(this.session, 'read a record', async () => {
      const sql = `SELECT r.idx, r.canonical FROM ${this.s}.leaves l JOIN ${this.s}.records r ON r.idx = l.idx AND r.ts = l.ts WHERE l.id = $1`;
      const { rows } = await this.pool.query<StoredRow>(sql, [id]);
      return rows[0] && toLogged(rows[0]);
    });
  }

  /** Newest first: each filter's (expression, idx) index is walked backwards from the cursor, per partition, merged. */
  search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]> {
    return guarded(this.session, 'search', async () => {
      const where = whereOf(this.s, filter);
      if (page.beforeIndex !== undefined) where.add(`idx < ${where.param(page.beforeIndex)}`);
      const sql = `SELECT idx, canonical FROM ${this.s}.records ${where} ORDER BY idx DESC LIMIT ${where.param(page.limit)}`;
      await this.plan(sql, where.params);
      const { rows } = await this.pool.query<StoredRow>(sql, where.params);
      return rows.map(toLogged);
    });
  }

  async *scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    const where = whereOf(this.s, filter);
    const sql = `SELECT idx, canonical FROM ${this.s}.records ${where} ORDER BY idx`;
    await guarded(this.session, 'scan', () => this.plan(sql, where.params));
    for await (const rows of this.cursor('scan', sql, where.params, batchSize)) {
      yield (rows as [number, string][]).map(([idx, canonical]) => toLogged({ idx, canonical }));
    }
  }

  /** PostgreSQL extracts the numbers from the JSONB envelope; JavaScript never parses one. No ORDER BY: any index may drive it. */
  async *statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns> {
    const where = whereOf(this.s, filter);
    const sql = `SELECT ${statsSelect(request)} FROM ${this.s}.records ${where}`;
    await guarded(this.session, 'compute stats', () => this.plan(sql, where.params));
    const builder = new StatsColumnsBuilder(request);
    for await (const rows of this.cursor('compute stats', sql, where.params, request.batchSize)) {
      for (const r of rows as SelectedStatsRow[]) {
        const batch = builder.pushSelected(r);
        if (batch) yield batch;
      }
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  /**
   * call_events held against what the records' envelopes say (see Store.checkEventIndex): a row
   * missing, which a search by its type would not find, and a row of an event no record carries,
   * which it would find instead. One statement, so one snapshot (retention deletes records and
   * their rows in one transaction): the rows the records call for, read from every record
   * carrying events as verify's scan reads them all, joined whole with the index's (a hash join:
   * a lookup by index alone would probe every day partition for each row).
   */
  checkEventIndex(): Promise<string[]> {
    const s = this.s;
    const sql = `WITH carried AS (SELECT t.event_type, r.idx FROM ${s}.records r, LATERAL (${indexedEventRows('r.envelope')}) t WHERE r.envelope ? 'events'),
      differ AS MATERIALIZED (SELECT d.idx AS carried, c.idx AS listed FROM carried d FULL JOIN ${s}.call_events c ON c.event_type = d.event_type AND c.idx = d.idx
        WHERE d.idx IS NULL OR c.idx IS NULL)
      SELECT ARRAY(SELECT DISTINCT carried FROM differ WHERE listed IS NULL ORDER BY 1 LIMIT 6)::text[] AS unindexed,
        ARRAY(SELECT DISTINCT listed FROM differ WHERE carried IS NULL ORDER BY 1 LIMIT 6)::text[] AS extra`;
    return guarded(this.session, 'check the index of events', async () => {
      const { unindexed, extra } = (await this.pool.query<{ unindexed: string[]; extra: string[] }>(sql)).rows[0]!;
      return eventIndexProblems(unindexed, extra);
    });
  }

  /** The signed head in the log head's row; absent before the first batch of a version that signs heads. */
  head(): Promise<StoredCheckpoint | undefined> {
    return guarded(this.session, 'read the signed head', async () => {
      const { rows } = await this.pool.query<StoredCheckpoint>(`SELECT size, note FROM ${this.s}.log_head WHERE note IS NOT NULL`);
      return rows[0];
    });
  }

  /**
   * The seals of the batches stored from index `from` on, in index order (see src/log/batch-seal.ts).
   * Written by versions before signed heads; read only, for `verify` of the records they vouch for.
   */
  batchSeals(from: number): Promise<StoredSeal[]> {
    return guarded(this.session, 'read batch seals', () => readSeals(this.pool, this.s, from));
  }

  checkpoints(): Promise<StoredCheckpoint[]> {
    return guarded(
      this.session,
      'read checkpoints',
      async () => (await this.pool.query<StoredCheckpoint>(`SELECT size, note FROM ${this.s}.checkpoints ORDER BY seq`)).rows,
    );
  }

  /**
   * The query plans (EXPLAIN) of the search, scan and stats statements that `query` runs: how
   * tests check that filters are answered from indexes, and a way to diagnose a slow query.
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

  private async plan(sql: string, params: unknown[]): Promise<void> {
    if (!this.plans) return;
    const { rows } = await this.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    this.plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
  }

  private async *cursor(what: string, sql: string, params: unknown[], batchSize: number): AsyncIterable<unknown[][]> {
    try {
      await this.started;
      yield* cursorBatches(this.pool, sql, params, batchSize);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot ${what} in ${this.location}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.partitions.stop();
    await this.appending;
    await this.started.catch(() => undefined);
    await this.pool.end();
  }
}

interface StoredRow {
  idx: number;
  canonical: string;
}

function toLogged(row: StoredRow): LoggedRecord {
  return { index: row.idx, envelope: JSON.parse(row.canonical) as Envelope };
}

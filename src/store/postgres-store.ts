import type pg from 'pg';
import type { Envelope, LoggedRecord } from '../record/types.js';
import { LeafBatchBuilder, type LeafBatch } from './leaf-scan.js';
import { Deadline, DEFAULT_APPEND_TIMEOUT_MS, inTransaction, openClient, openPool, postgresLocation, type PostgresOptions, type PostgresSession } from './postgres-connection.js';
import { guarded, PostgresContentStore } from './postgres-content.js';
import { cursorBatches } from './postgres-cursor.js';
import { LEAF_BATCH, PostgresIntegrator, type IntegratorOptions } from './postgres-integrator.js';
import { canonicalLines, contentColumns, insertNumbered, type BatchSealer, type UnnumberedEntry } from './postgres-numbered.js';
import { migrate } from './postgres-migrate.js';
import { PostgresPartitions, timeOf } from './postgres-partitions.js';
import { PostgresPruning } from './postgres-pruning.js';
import { statsSelect, whereOf } from './postgres-query.js';
import { rolesOf } from './postgres-schema.js';
import { readSeals } from './postgres-seals.js';
import type { StoredSeal } from '../log/batch-seal.js';
import { StatsColumnsBuilder } from './stats-columns.js';
import {
  StoreError,
  type AppendEntry,
  type SearchFilter,
  type SearchPage,
  type StatsColumns,
  type StatsColumnsRequest,
  type Store,
  type StoredCheckpoint,
} from './store.js';

/**
 * Opens a ledger in a PostgreSQL schema. Returns at once; migrations run in the background and
 * every call waits for them, so a store that cannot be reached or migrated fails its first call
 * (the ledger's first call is at open) with a StoreError that says why.
 */
export function openPostgresStore(options: PostgresOptions): PostgresStore {
  return new PostgresStore(options);
}

export class PostgresStore implements Store {
  readonly location: string;
  // Each read of leaves is a round trip: as many at once as the integrator reads.
  readonly leafBatch = LEAF_BATCH;
  readonly content: PostgresContentStore;
  readonly pruning: PostgresPruning;
  private readonly pool: pg.Pool;
  private readonly session: PostgresSession;
  private readonly partitions: PostgresPartitions;
  private readonly started: Promise<void>;
  private readonly s: string;
  /** The log's size as this process last knew it; undefined after a failed append, until read again. */
  private size_: number | undefined;
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

  append(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint): Promise<void> {
    const deadline = this.appendDeadline();
    const run = this.appending.then(() =>
      guarded(this.session, 'append', () => {
        if (deadline.passed) throw deadline.error();
        return this.appendNow(entries, checkpoint);
      }),
    );
    this.appending = run.catch(() => undefined);
    return deadline.race(run);
  }

  /**
   * An append's time limit runs from its call, so one queued behind appends that hang fails in
   * time too (and is then never started). The limit rejects the caller at once; a numbered
   * append's connection is closed then, so the appends behind it go on from there (a
   * single-writer append's statements end at the pool's own limit, `store.read_timeout_ms`).
   */
  private appendDeadline(): Deadline {
    return new Deadline(this.options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS, `cannot append in ${this.location}`, 'store.append_timeout_ms');
  }

  /**
   * One statement: records, leaves, content and checkpoint commit together or not at all. A
   * batch that is already stored (its commit succeeded but the answer was lost in an outage, and
   * the writer sent it again) is recognised by its leaf hashes and not stored twice.
   */
  private async appendNow(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint): Promise<void> {
    const size = (this.size_ ??= await this.readSize());
    let batch = entries;
    if (entries.length > 0 && entries[0]!.index < size) batch = await this.notYetStored(entries);
    const first = batch[0]?.index ?? size;
    if (first !== size) throw new StoreError(`a batch starting at index ${first} cannot follow a log of size ${size}`);
    try {
      await this.partitions.insert(this.insertQuery(batch, checkpoint), batch);
    } catch (err) {
      this.size_ = undefined;
      throw err;
    }
    this.size_ = size + batch.length;
  }

  /** The part of a batch not yet stored; refused unless the stored part has exactly these leaves. */
  private async notYetStored(entries: readonly AppendEntry[]): Promise<readonly AppendEntry[]> {
    const first = entries[0]!.index;
    const stored = await this.leafHashes(first, first + entries.length);
    const same = stored.every((hash, i) => hash.equals(entries[i]!.leafHash));
    if (!same || stored.length === 0) throw new StoreError(`a batch starting at index ${first} cannot follow a log of size ${await this.readSize()}`);
    return entries.slice(stored.length);
  }

  private insertQuery(entries: readonly AppendEntry[], checkpoint: StoredCheckpoint | undefined): pg.QueryConfig {
    const s = this.s;
    const content = contentColumns(entries, (e) => e.index);
    const end = entries.length > 0 ? entries.at(-1)!.index + 1 : null;
    return {
      name: `llm-ledger-append-${s}`,
      text: `WITH r AS (INSERT INTO ${s}.records (idx, ts, canonical)
          SELECT u.idx, u.ts, t.canonical FROM unnest($1::bigint[], $2::timestamptz[]) WITH ORDINALITY AS u(idx, ts, ord)
          JOIN string_to_table($3::text, E'\\n') WITH ORDINALITY AS t(canonical, ord) ON t.ord = u.ord),
        l AS (INSERT INTO ${s}.leaves (idx, hash, id, ts) SELECT * FROM unnest($1::bigint[], $4::bytea[], $5::text[], $2::timestamptz[])),
        c AS (INSERT INTO ${s}.content (idx, mode, record_id, subject, ts, data) SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])),
        k AS (INSERT INTO ${s}.checkpoints (size, note) SELECT $12::bigint, $13::text WHERE $13::text IS NOT NULL),
        h AS (UPDATE ${s}.log_head SET size = $14::bigint WHERE $14::bigint IS NOT NULL)
        SELECT 1`,
      values: [
        entries.map((e) => e.index),
        entries.map((e) => timeOf(e.canonical)),
        canonicalLines(entries),
        entries.map((e) => e.leafHash),
        entries.map((e) => e.id),
        content.at,
        content.mode,
        content.recordId,
        content.subject,
        content.ts,
        content.data,
        checkpoint?.size ?? null,
        checkpoint?.note ?? null,
        end,
      ],
    };
  }

  /**
   * Many-writers mode: stores records the database numbers, each batch with its signed seal (see `insertNumbered`), so any
   * number of processes can append to one log at once. Resolves with each record's index; in a
   * `replayed` batch, -1 for a record that was already stored (its first commit went through).
   */
  appendNumbered(entries: readonly UnnumberedEntry[], options: { replayed?: boolean; seal: BatchSealer }): Promise<number[]> {
    const deadline = this.appendDeadline();
    const run = this.appending.then(() =>
      guarded(this.session, 'append', async () => {
        // Other processes move the log too: the size this process knew is stale from now on.
        this.size_ = undefined;
        if (deadline.passed) throw deadline.error();
        if (entries.length === 0) return [];
        return inTransaction(
          this.pool,
          undefined,
          (client) => insertNumbered(client, this.s, entries, options.seal, (query, batch) => this.partitions.insertIn(client, query, batch), options.replayed === true),
          deadline,
        );
      }),
    );
    this.appending = run.catch(() => undefined);
    return deadline.race(run);
  }

  /**
   * Takes part in electing the one process that extends the tree over the whole log and signs
   * its checkpoints (see `PostgresIntegrator`); the ledger starts it in many-writers mode.
   */
  integrate(options: IntegratorOptions): PostgresIntegrator {
    return new PostgresIntegrator(this.options, this.session, options);
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
      const { rows } = await this.pool.query<[Buffer]>({ text: `SELECT hash FROM ${this.s}.leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx`, values: [from, to], rowMode: 'array' });
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
      const where = whereOf(filter);
      if (page.beforeIndex !== undefined) where.add(`idx < ${where.param(page.beforeIndex)}`);
      const sql = `SELECT idx, canonical FROM ${this.s}.records ${where} ORDER BY idx DESC LIMIT ${where.param(page.limit)}`;
      await this.plan(sql, where.params);
      const { rows } = await this.pool.query<StoredRow>(sql, where.params);
      return rows.map(toLogged);
    });
  }

  async *scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    const where = whereOf(filter);
    const sql = `SELECT idx, canonical FROM ${this.s}.records ${where} ORDER BY idx`;
    await guarded(this.session, 'scan', () => this.plan(sql, where.params));
    for await (const rows of this.cursor('scan', sql, where.params, batchSize)) {
      yield (rows as [number, string][]).map(([idx, canonical]) => toLogged({ idx, canonical }));
    }
  }

  /** PostgreSQL extracts the numbers from the JSONB envelope; JavaScript never parses one. No ORDER BY: any index may drive it. */
  async *statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns> {
    const where = whereOf(filter);
    const sql = `SELECT ${statsSelect(request)} FROM ${this.s}.records ${where}`;
    await guarded(this.session, 'compute stats', () => this.plan(sql, where.params));
    const builder = new StatsColumnsBuilder(request);
    const groupAt = request.groupBy ? 7 : -1;
    const timeAt = request.withTime ? (request.groupBy ? 8 : 7) : -1;
    for await (const rows of this.cursor('compute stats', sql, where.params, request.batchSize)) {
      for (const r of rows as StatsRow[]) {
        const batch = builder.push(r[0], r[1], r[2], r[3], r[4], r[5], r[6], groupAt < 0 ? undefined : (r[groupAt] as string | null), timeAt < 0 ? undefined : (r[timeAt] as number | null));
        if (batch) yield batch;
      }
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  /** None: every writer process appends, and the elected integrator signs checkpoints instead (see PostgresIntegrator); batches carry seals. */
  async head(): Promise<StoredCheckpoint | undefined> {
    return undefined;
  }

  addBatchSeal(first: number, note: string): Promise<void> {
    return guarded(this.session, 'store a batch seal', async () => {
      await this.pool.query(`INSERT INTO ${this.s}.batch_seals (first_idx, note) VALUES ($1, $2)`, [first, note]);
    });
  }

  /** The seals of the batches stored from index `from` on, in index order (see src/log/batch-seal.ts). */
  batchSeals(from: number): Promise<StoredSeal[]> {
    return guarded(this.session, 'read batch seals', () => readSeals(this.pool, this.s, from));
  }

  checkpoints(): Promise<StoredCheckpoint[]> {
    return guarded(this.session, 'read checkpoints', async () => (await this.pool.query<StoredCheckpoint>(`SELECT size, note FROM ${this.s}.checkpoints ORDER BY seq`)).rows);
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

type StatsRow = [number, number | null, number | null, number | null, number | null, number | null, number | null, ...(string | number | null)[]];

function toLogged(row: StoredRow): LoggedRecord {
  return { index: row.idx, envelope: JSON.parse(row.canonical) as Envelope };
}

// The packed blocks that stats of calls read from a SQLite ledger: each holds the call_stats rows
// of a run of consecutive calls as typed-array columns in one BLOB, so a million calls are read
// as about 250 rows instead of being stepped through one by one (node:sqlite costs about a
// microsecond a row; a block of 4,096 calls about a hundred). Free of project imports: the writer
// thread loads it from the TypeScript sources (tests) as well as from the build.
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Calls per block; a block holds exactly this many (the rest wait in call_stats for the next). */
export const BLOCK_CALLS = 4096;

/**
 * The layout of `columns`: the NUMBERS as little-endian Float64 columns (NaN when absent), then
 * the LABELS as Uint16 columns of positions in the block's `labels` dictionaries. A block of
 * another format is not read (its calls are read from call_stats instead).
 */
const BLOCK_FORMAT = 1;
const BLOCK_NUMBERS = ['time', 'inputTokens', 'outputTokens', 'reasoningTokens', 'cachedTokens', 'costUsd', 'latencyMs'] as const;
export const BLOCK_LABELS = ['status', 'model', 'user', 'provider', 'day'] as const;
type BlockNumber = (typeof BLOCK_NUMBERS)[number];
export type BlockLabel = (typeof BLOCK_LABELS)[number];

/**
 * Derived from call_stats as call_stats is from records: `verify` checks neither. A deleted call
 * takes its block with it (retention deletes a prefix, so only the oldest blocks go); the calls of
 * that block still kept are read from call_stats. `min_ts`/`max_ts` are null when a call has no ts.
 */
export const STATS_BLOCKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS call_stats_blocks (
  first_idx INTEGER PRIMARY KEY,
  last_idx INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  format INTEGER NOT NULL,
  min_ts TEXT,
  max_ts TEXT,
  labels TEXT NOT NULL,
  columns BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS call_stats_blocks_pruned AFTER DELETE ON call_stats
BEGIN DELETE FROM call_stats_blocks WHERE first_idx = (SELECT max(first_idx) FROM call_stats_blocks WHERE first_idx <= old.idx) AND last_idx >= old.idx; END;
CREATE TRIGGER IF NOT EXISTS call_stats_blocks_no_update BEFORE UPDATE ON call_stats_blocks
BEGIN SELECT RAISE(ABORT, 'llm-ledger: call_stats_blocks is derived from call_stats; updates are refused'); END;
`;

/** The typed-array views of one block's columns. */
export interface BlockColumns {
  calls: number;
  numbers: Record<BlockNumber, Float64Array>;
  /** Per label, each call's position in `values`. */
  labels: Record<BlockLabel, { codes: Uint16Array; values: (string | null)[] }>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Views on a stored block (`values`: its parsed dictionaries), or undefined when this machine cannot read its format. */
export function openBlock(calls: number, format: number, values: (string | null)[][], columns: Uint8Array): BlockColumns | undefined {
  if (format !== BLOCK_FORMAT || !LITTLE_ENDIAN || columns.byteLength !== calls * BYTES_PER_CALL) return undefined;
  // Float64 views need an offset that is a multiple of 8.
  const bytes = columns.byteOffset % 8 === 0 ? columns : columns.slice();
  const numbers = {} as Record<BlockNumber, Float64Array>;
  BLOCK_NUMBERS.forEach((name, k) => (numbers[name] = new Float64Array(bytes.buffer, bytes.byteOffset + k * calls * 8, calls)));
  const labelsAt = bytes.byteOffset + BLOCK_NUMBERS.length * calls * 8;
  const labels = {} as BlockColumns['labels'];
  BLOCK_LABELS.forEach((name, k) => (labels[name] = { codes: new Uint16Array(bytes.buffer, labelsAt + k * calls * 2, calls), values: values[k]! }));
  return { calls, numbers, labels };
}

const BYTES_PER_CALL = BLOCK_NUMBERS.length * 8 + BLOCK_LABELS.length * 2;

type CallRow = [
  idx: number,
  ts: string | null,
  status: string | null,
  model: string | null,
  user: string | null,
  provider: string | null,
  ...numbers: (number | null)[],
];
export type CallRows = CallRow[];

/** The call_stats rows a block packs: `.all(afterIdx, calls)` gives the next `calls` of them in idx order. */
export function prepareCallRows(db: DatabaseSync): StatementSync {
  const statement = db.prepare(
    `SELECT idx, ts, status, model, user_id, provider, unixepoch(ts, 'subsec') * 1000, input_tokens, output_tokens, reasoning_tokens, cached_tokens, cost_usd, latency_ms FROM call_stats WHERE idx > ? ORDER BY idx LIMIT ?`,
  );
  statement.setReturnArrays(true);
  return statement;
}

/** Calls read for a block in one step at least: about a millisecond of the writer's time. */
const READ_SLICE = 512;

/**
 * Packs full blocks on the writer's connection, between its transactions and a slice at a time.
 * Reading a block's 4,096 calls takes about 8 ms: done inside the append that filled the block, as
 * it once was, it held that commit and every record queued behind it for as long, once per 4,096
 * calls, which was a good part of the p99 of record() -> commit.
 */
export class StatsBlockWriter {
  private readonly lastBlockEnd: StatementSync;
  private readonly nextCalls: StatementSync;
  private readonly callsFrom: StatementSync;
  private readonly insert: StatementSync;
  /** Calls in call_stats past the last block, as far as this connection knows. */
  private pending: number;
  /** The next block, packed as far as its calls have been read. */
  private building: BlockBuilder | undefined;
  /** Calls appended while a block was due, since the last step: a step reads at least as many, so packing keeps up with appends. */
  private owed = 0;
  // A plain field, not a parameter property: Node's type stripping does not take those.
  private readonly callsPerBlock: number;

  constructor(db: DatabaseSync, callsPerBlock: number) {
    this.callsPerBlock = callsPerBlock;
    this.lastBlockEnd = db.prepare('SELECT coalesce(max(last_idx), -1) AS v FROM call_stats_blocks');
    this.nextCalls = prepareCallRows(db);
    this.callsFrom = db.prepare('SELECT count(*) AS v FROM call_stats WHERE idx >= ?');
    this.insert = db.prepare(
      'INSERT INTO call_stats_blocks (first_idx, last_idx, calls, format, min_ts, max_ts, labels, columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.pending = this.countPending();
  }

  /** After records from `firstIdx` on were inserted, in the append's transaction: counts their calls. */
  appended(firstIdx: number): void {
    try {
      const calls = (this.callsFrom.get(firstIdx) as { v: number }).v;
      this.pending += calls;
      // Only while a block is due: calls appended before are read in slices like the rest.
      if (this.due) this.owed += calls;
    } catch {
      // call_stats is unreadable (tampered with): the append goes on, its calls unpacked.
    }
  }

  /** After calls were deleted (the count past the last block may have changed, and what was read may be gone). */
  recount(): void {
    this.building = undefined;
    this.pending = this.countPending();
  }

  /** Whether a full block is waiting to be written. */
  get due(): boolean {
    return this.pending >= this.callsPerBlock;
  }

  /**
   * One step towards the next block, outside any transaction: reads the next slice of its calls,
   * or, once it has them all, writes it in a transaction of its own (`transaction`, which throws
   * when the write lock stays busy: the block is then written at the next step). A step goes on
   * until it has read as many calls as were appended since the last, so packing keeps up with
   * appends however large their batches. True while more is due.
   */
  step(transaction: (work: () => void) => void): boolean {
    do {
      if (!this.building?.full) this.readSlice();
      else transaction(() => this.writeBlock());
    } while (this.owed > 0 && this.due);
    return this.due;
  }

  private readSlice(): void {
    try {
      const building = (this.building ??= new BlockBuilder(this.callsPerBlock));
      const after = building.count > 0 ? building.lastIdx : (this.lastBlockEnd.get() as { v: number }).v;
      const wanted = Math.min(this.callsPerBlock - building.count, Math.max(READ_SLICE, this.owed));
      const rows = this.nextCalls.all(after, wanted) as unknown as CallRows;
      this.owed = Math.max(0, this.owed - rows.length);
      building.add(rows);
      // Fewer calls than counted (the count was off): what is there is all that is pending.
      if (rows.length < wanted) this.pending = building.count;
    } catch {
      this.giveUp();
    }
  }

  private writeBlock(): void {
    const block = this.building!.finish();
    this.building = undefined;
    try {
      // Blocks written meanwhile on another connection may hold these calls already.
      if (block[0] > (this.lastBlockEnd.get() as { v: number }).v) this.insert.run(...block);
      this.pending -= block[2];
    } catch {
      this.giveUp();
    }
  }

  /** A block is a shortcut: without it the calls are read from call_stats, as before. */
  private giveUp(): void {
    this.building = undefined;
    this.pending = 0;
    this.owed = 0;
  }

  private countPending(): number {
    const after = (this.lastBlockEnd.get() as { v: number }).v;
    return (this.callsFrom.get(after + 1) as { v: number }).v;
  }
}

/** A block as stored: first_idx, last_idx, calls, format, min_ts, max_ts, labels, columns. */
type PackedBlock = [number, number, number, number, string | null, string | null, string, Uint8Array];

/** One block from its call_stats rows, in idx order. */
export function packBlock(rows: CallRows): PackedBlock {
  const builder = new BlockBuilder(rows.length);
  builder.add(rows);
  return builder.finish();
}

/**
 * Packs a block of `calls` calls as its rows come, a slice at a time, so that writing it is only
 * its insert.
 */
export class BlockBuilder {
  /** Calls packed so far. */
  count = 0;
  /** The idx of the last call packed (-1 before the first). */
  lastIdx = -1;
  private firstIdx = -1;
  private minTs: string | null = null;
  private maxTs: string | null = null;
  private readonly bytes: Uint8Array;
  private readonly numbers: Float64Array[];
  private readonly codes: Uint16Array[];
  private readonly values = BLOCK_LABELS.map(() => [] as (string | null)[]);
  private readonly positions = BLOCK_LABELS.map(() => new Map<string | null, number>());
  private readonly calls: number;

  constructor(calls: number) {
    this.calls = calls;
    this.bytes = new Uint8Array(calls * BYTES_PER_CALL);
    this.numbers = BLOCK_NUMBERS.map((_, k) => new Float64Array(this.bytes.buffer, k * calls * 8, calls));
    const labelsAt = BLOCK_NUMBERS.length * calls * 8;
    this.codes = BLOCK_LABELS.map((_, k) => new Uint16Array(this.bytes.buffer, labelsAt + k * calls * 2, calls));
  }

  get full(): boolean {
    return this.count === this.calls;
  }

  /** The next rows of the block, in idx order. */
  add(rows: CallRows): void {
    for (const row of rows) {
      const i = this.count++;
      const ts = row[1];
      if (i === 0) {
        this.firstIdx = row[0];
        this.minTs = this.maxTs = ts;
      } else if (ts === null || this.minTs === null || this.maxTs === null) this.minTs = this.maxTs = null;
      else if (ts < this.minTs) this.minTs = ts;
      else if (ts > this.maxTs) this.maxTs = ts;
      // status, model, user and provider are row[2..5]; the day is cut from ts, as substr(ts, 1, 10) does.
      for (let k = 0; k < BLOCK_LABELS.length; k++) {
        const value = k < 4 ? (row[2 + k] as string | null) : ts === null ? null : ts.slice(0, 10);
        let at = this.positions[k]!.get(value);
        if (at === undefined) this.positions[k]!.set(value, (at = this.values[k]!.push(value) - 1));
        this.codes[k]![i] = at;
      }
      for (let k = 0; k < BLOCK_NUMBERS.length; k++) this.numbers[k]![i] = (row[6 + k] as number | null) ?? Number.NaN;
      this.lastIdx = row[0];
    }
  }

  finish(): PackedBlock {
    return [this.firstIdx, this.lastIdx, this.count, BLOCK_FORMAT, this.minTs, this.maxTs, JSON.stringify(this.values), this.bytes];
  }
}

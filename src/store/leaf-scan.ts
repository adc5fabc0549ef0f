import { sha256 } from '../crypto/sha256.js';

/** How a row's current bytes compare with the leaf committed for the index it claims. */
export const LEAF_MATCHES = 0;
export const LEAF_DIFFERS = 1;
export const LEAF_NOT_COMMITTED = 2;
/** The bytes match their committed leaf, but the id the store keeps beside them (for lookups by id) is not the envelope's. */
export const LEAF_ID_DIFFERS = 3;
/** The record is as committed, but the copy of its numbers that stats read (SQLite's call_stats) is not. */
export const LEAF_STATS_DIFFER = 4;
/** The record is as committed, but the index of the events it carries (SQLite's call_events) misses one of them. */
export const LEAF_EVENTS_UNINDEXED = 5;

/**
 * A batch of stored rows as verification sees them, in columns rather than one object per row:
 * verify touches every row of the log, and a million small objects cost more than the hashing.
 */
export interface LeafBatch {
  /** The index each row claims. */
  indexes: number[];
  /** RFC 9162 leaf hash of each row's bytes as they are now, 32 bytes per row. */
  leaves: Uint8Array;
  /** One of LEAF_MATCHES, LEAF_DIFFERS, LEAF_NOT_COMMITTED, LEAF_ID_DIFFERS, LEAF_STATS_DIFFER, LEAF_EVENTS_UNINDEXED per row. */
  committed: Uint8Array;
}

/** The leaf hash of stored bytes that already start with RFC 9162's 0x00 leaf prefix. */
export function hashLeafInput(leafInput: Uint8Array): Buffer {
  return sha256(leafInput);
}

/** Collects rows into LeafBatches of a fixed size. */
export class LeafBatchBuilder {
  private indexes: number[] = [];
  private leaves: Uint8Array;
  private committed: Uint8Array;

  constructor(private readonly size: number) {
    this.leaves = new Uint8Array(size * 32);
    this.committed = new Uint8Array(size);
  }

  /**
   * Adds one row; `copies` says what of the copies kept beside it disagrees with its envelope (bit
   * 1: the id column, bit 2: its row of stats copies, bit 3: its events' index rows). Returns a full batch when this row completed one.
   */
  add(index: number, leaf: Uint8Array, committedLeaf: Uint8Array | null | undefined, copies = 0): LeafBatch | undefined {
    const n = this.indexes.length;
    this.indexes.push(index);
    this.leaves.set(leaf, n * 32);
    this.committed[n] = !committedLeaf ? LEAF_NOT_COMMITTED : Buffer.compare(leaf, committedLeaf) !== 0 ? LEAF_DIFFERS : copiesStatus(copies);
    return n + 1 === this.size ? this.take() : undefined;
  }

  /** The rows added since the last batch, if any. */
  take(): LeafBatch | undefined {
    const n = this.indexes.length;
    if (n === 0) return undefined;
    const batch = { indexes: this.indexes, leaves: this.leaves.subarray(0, n * 32), committed: this.committed.subarray(0, n) };
    this.indexes = [];
    this.leaves = new Uint8Array(this.size * 32);
    this.committed = new Uint8Array(this.size);
    return batch;
  }
}

/** LEAF_MATCHES, or which copy beside a row that matches its leaf disagrees with it (the id first). */
export function copiesStatus(copies: number): number {
  return copies & 1 ? LEAF_ID_DIFFERS : copies & 2 ? LEAF_STATS_DIFFER : copies & 4 ? LEAF_EVENTS_UNINDEXED : LEAF_MATCHES;
}

/**
 * What of the copies kept beside each record disagrees with its envelope, as one SQL expression
 * over `records r` (and `call_stats c` joined on idx, when the file has it): bit 1, the id
 * column that lookups go through; bit 2, the record's row of stats copies (one where it is a call,
 * none where it is not, the same numbers); bit 3, when `eventsUnindexed` is given, an event it carries
 * that the index of events misses. A row that is not JSON has no fields to compare (it
 * differs from its leaf anyway). SQLite parses each envelope once for all of them: about 3 us a row.
 */
export function copiesExpression(withCallStats: boolean, statsColumns: readonly string[], eventsUnindexed?: string): string {
  const stats = withCallStats
    ? ` | ((((r.kind = 'llm.call') IS NOT (c.idx IS NOT NULL)) OR (c.idx IS NOT NULL AND (${statsColumns.map((column) => `r.${column} IS NOT c.${column}`).join(' OR ')}))) << 1)`
    : '';
  const events = eventsUnindexed === undefined ? '' : ` | ((${eventsUnindexed}) << 2)`;
  // SQLite gives | and << one precedence, left to right: every operand is bracketed.
  return `iif(json_valid(r.envelope), (r.id IS NOT r.envelope ->> '$.id')${stats}${events}, 0)`;
}

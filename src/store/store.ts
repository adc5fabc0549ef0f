import type { StoredSeal } from '../log/batch-seal.js';
import type { StoredCheckpoint } from '../log/checkpoint.js';
import type { Sequencer } from '../log/sequencer.js';
import type { LoggedRecord, RecordKind, RecordStatus } from '../record/types.js';
import type { ContentItem, ContentStore } from './content.js';
import type { LeafBatch } from './leaf-scan.js';
import type { PrunableStore } from './pruning.js';

/** A record on its way into a store: exact committed bytes, leaf hash; the store gives it its index. */
export interface NewEntry {
  id: string;
  canonical: string;
  leafHash: Buffer;
  /** Content stored beside the record, in the same transaction; `ts` is the envelope's. */
  content?: { ts: string; items: ContentItem[] };
  /**
   * The event types of the record's events that a store indexes (indexedEventTypes), given by
   * the ledger, which has the envelope at hand; absent, a store that needs them reads `canonical`.
   */
  eventTypes?: readonly string[];
}

/** A record as a store places it: at its index. */
export interface AppendEntry extends NewEntry {
  index: number;
}

/** How a batch is to be sequenced and committed (see Store.append). */
export interface AppendRequest {
  /** Gives the batch its indexes and signs the log's new head, inside the store's write transaction. */
  sequencer: Sequencer;
  /** Keep the new head as a checkpoint too (published; the writer anchors it). */
  checkpoint?: boolean;
  /** Raise the pruning horizon the new head states to at least this (see LogWriter.raiseHorizon). */
  raiseHorizon?: number;
  /**
   * Records replayed from the spool: the first commit of their batch may have gone through with
   * its answer lost, so a record already stored (by id) is left out, its index reported as -1.
   */
  replayed?: boolean;
}

/** What a committed batch became. */
export interface Appended {
  /** Each entry's index, in order; -1 for a replayed record that was already stored. */
  indexes: number[];
  /** The log's signed head after the batch. */
  head: StoredCheckpoint;
  /** The head, when the request asked for it to be kept as a checkpoint. */
  checkpoint?: StoredCheckpoint;
}

/** Defined in the log (src/log/checkpoint.ts), whose anchors keep them too. */
export type { StoredCheckpoint };

export interface SearchFilter {
  since?: string;
  until?: string;
  model?: string;
  provider?: string;
  user?: string;
  session?: string;
  conversation?: string;
  keyPrefix?: string;
  status?: RecordStatus;
  kind?: RecordKind;
  /** Records that are, or carry among their events (see src/record/call-events.ts), an event of this type. */
  eventType?: string;
  traceId?: string;
  requestId?: string;
}

/** What stats can group by: an envelope field, or the UTC day of `ts`. */
export const STATS_GROUP_FIELDS = ['model', 'user', 'provider', 'day'] as const;
export type StatsGroupField = (typeof STATS_GROUP_FIELDS)[number];

/** Which columns a stats scan returns besides the numbers, which it always returns. */
export interface StatsColumnsRequest {
  /** Adds `group`: this field of each row (`day` = the UTC date of `ts`, YYYY-MM-DD). */
  groupBy?: StatsGroupField;
  /** Adds `time`: each row's `ts` in epoch milliseconds. */
  withTime?: boolean;
  /** Rows per batch, at most. */
  batchSize: number;
}

/**
 * A batch of matching rows as stats see them, one array per column rather than one object per
 * row: stats touch every matching row, and a million envelopes parsed into objects cost seconds.
 * Row `i` of the batch is position `i` of every array.
 */
export interface StatsColumns {
  length: number;
  /** 0 when the row has no status, else 1 + the status's position in RECORD_STATUSES. */
  status: Uint8Array;
  /** Absent numbers are NaN, so a missing latency is told apart from 0 ms. */
  inputTokens: Float64Array;
  outputTokens: Float64Array;
  reasoningTokens: Float64Array;
  cachedTokens: Float64Array;
  costUsd: Float64Array;
  latencyMs: Float64Array;
  /** Present when `groupBy` was asked for; null when the row lacks the field. */
  group?: (string | null)[];
  /** Present when `withTime` was asked for. */
  time?: Float64Array;
}

/** What a comparison of the copies stats read with the envelopes found. */
export interface StatsCopiesCheck {
  /** Calls in the copy, and blocks they are packed into. */
  calls: number;
  blocks: number;
  /** One line per kind of disagreement, naming the first indexes; empty when the copies agree. */
  problems: string[];
}

/** Newest first; `beforeIndex` is the cursor: only records with a smaller index are returned. */
export interface SearchPage {
  limit: number;
  beforeIndex?: number;
}

/**
 * What every storage driver provides. The core's Sequencer numbers records and builds the tree,
 * run by the store inside its write transaction; a store keeps rows, leaf hashes, the head and
 * checkpoints, and answers queries. Every store passes
 * the shared conformance suite in `conformance.ts`.
 */
export interface Store {
  /** Human-readable location, for messages ("sqlite:/data/llm-ledger.db"). */
  readonly location: string;
  /** Present when the store can keep content (encrypted or plaintext capture); absent for JSONL. */
  readonly content?: ContentStore | undefined;
  /** Present when retention can prune the oldest envelopes; absent for JSONL. */
  readonly pruning?: PrunableStore | undefined;
  /**
   * Appends a batch atomically and durably where the log ends when it commits: inside its write
   * transaction the store reads its head, lets `request.sequencer` number the batch and sign the
   * new head, and stores rows, leaf hashes, the head (with its frontier) and, when asked, the head
   * as a checkpoint. Any number of writers (threads, processes) may append at once; calls from
   * one writer are applied in call order. An empty batch signs the head again (a checkpoint, a
   * raised horizon).
   */
  append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended>;
  /**
   * The log's signed head: signed over the whole log with the last committed batch, kept in the
   * same transaction as the batch (one, replaced each time). A row beyond it was not sequenced by
   * a writer of the log. Absent before the first batch and in files written before heads.
   */
  head(): Promise<StoredCheckpoint | undefined>;
  /** Number of records the store believes it holds (one past the highest index). */
  size(): Promise<number>;
  /** Stored leaf hashes for indexes [from, to), kept apart from the rows so a moved row is caught. */
  leafHashes(from: number, to: number): Promise<Buffer[]>;
  /** How many leaf hashes to ask for at once when reading them all (default LEAF_CHUNK): a server store wants fewer round trips. */
  readonly leafBatch?: number;
  /**
   * Every stored row in storage order, in batches, exactly as stored (gaps and all): the index it
   * claims, the leaf hash of its bytes as they are now, and whether that matches the leaf
   * committed for that index. The store hashes because it can do so where the bytes are
   * (SQLite: on several threads).
   */
  scanLeaves(batchSize: number): AsyncIterable<LeafBatch>;
  getById(id: string): Promise<LoggedRecord | undefined>;
  search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]>;
  /** Matching records oldest first, for aggregation; implementations stream rather than load all. */
  scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]>;
  /**
   * The numbers of matching records (and optionally a grouping field and the time), in column
   * batches and in no particular order: what aggregation needs without parsing whole envelopes.
   */
  statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns>;
  /**
   * Compares the copies of the records that stats read instead of the envelopes (SQLite's
   * call_stats and its blocks) with the envelopes; undefined, or absent, where stats read the
   * envelopes themselves (which `verify` checks). `rowsScanned`: `scanLeaves` already held each
   * record's copy against it (LEAF_STATS_DIFFER); only the rest (copies of no record, packed blocks).
   */
  checkStatsCopies?(options?: { rowsScanned?: boolean }): Promise<StatsCopiesCheck | undefined>;
  /**
   * Compares the index of the events records carry (SQL stores: `call_events`, one row per record
   * and indexed event type, see src/record/call-events.ts) with the records; one line per kind of
   * disagreement, naming the first indexes. Absent where search reads the records themselves.
   * `rowsScanned`: `scanLeaves` already held each record against the index (LEAF_EVENTS_UNINDEXED);
   * only index rows that no record's events explain are left.
   */
  checkEventIndex?(options?: { rowsScanned?: boolean }): Promise<string[]>;
  /**
   * PostgreSQL databases written by versions before signed heads: the signed seals of the batches
   * stored from index `from` on, in index order (see src/log/batch-seal.ts), which vouch for the
   * records no checkpoint covers. Read only: no batch gets a seal any more.
   */
  batchSeals?(from: number): Promise<StoredSeal[]>;
  /** Signed checkpoints in the order they were published. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  close(): Promise<void>;
}

/** Thrown by stores when storage itself fails, so callers can tell it from a bad record. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

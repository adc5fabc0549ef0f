import type { LoggedRecord, RecordKind, RecordStatus } from '../record/types.js';
import type { LeafBatch } from './leaf-scan.js';

/** One sequenced record on its way into a store: position, exact committed bytes, leaf hash. */
export interface AppendEntry {
  index: number;
  id: string;
  canonical: string;
  leafHash: Buffer;
}

/** A signed checkpoint as kept by a store (and by anchors outside it). */
export interface StoredCheckpoint {
  size: number;
  note: string;
}


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
  eventType?: string;
  traceId?: string;
  requestId?: string;
}

/** Newest first; `beforeIndex` is the cursor: only records with a smaller index are returned. */
export interface SearchPage {
  limit: number;
  beforeIndex?: number;
}

/**
 * What every storage driver provides. The core sequences records and builds the tree; a store
 * only keeps rows, leaf hashes and checkpoints, and answers queries. Every store passes
 * the shared conformance suite in `conformance.ts`.
 */
export interface Store {
  /** Human-readable location, for messages ("sqlite:/data/llm-ledger.db"). */
  readonly location: string;
  /**
   * Appends entries (contiguous, starting at `size()`) and optionally a checkpoint, atomically
   * and durably. Calls may overlap; they must be applied in call order, and a batch that does not
   * start at the current size must be refused (so batches sent behind a failed one fail too).
   */
  append(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint): Promise<void>;
  /** Number of records the store believes it holds (one past the highest index). */
  size(): Promise<number>;
  /** Stored leaf hashes for indexes [from, to), kept apart from the rows so a moved row is caught. */
  leafHashes(from: number, to: number): Promise<Buffer[]>;
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
  /** Signed checkpoints in the order they were published. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  close(): Promise<void>;
}

/** Thrown by stores when storage itself fails, so callers can tell it from a bad record. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

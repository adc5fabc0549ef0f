import type { Envelope, LoggedRecord } from '../../record/types.js';
import { leafHashOfText } from '../../log/merkle.js';
import type { ContentStore } from '../content.js';
import { LeafBatchBuilder, type LeafBatch } from '../leaf-scan.js';
import { MemoryContentStore } from './memory-content.js';
import type { PrunableStore } from '../pruning.js';
import { matchesFilter } from '../match.js';
import { StatsColumnsBuilder } from '../stats-columns.js';
import type { StoredHead } from '../../log/sequencer.js';
import {
  StoreError,
  type AppendEntry,
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

/** A batch as sequenced: the entries at their indexes, the new head, what the writer is told. */
export interface SequencedEntries {
  placed: AppendEntry[];
  head: StoredHead & { frontier: string };
  appended: Appended;
}

interface MemoryRow {
  index: number;
  canonical: string;
  envelope: Envelope;
}

/**
 * Everything in arrays: for tests and short-lived processes. Also the query engine of the JSONL
 * store, which keeps this index in memory and its truth in files.
 */
export class MemoryStore implements Store {
  readonly location: string = 'memory:';
  protected rows: MemoryRow[] = [];
  protected leaves: Buffer[] = [];
  protected published: StoredCheckpoint[] = [];
  protected sealedHead: StoredHead | undefined;
  private byId = new Map<string, MemoryRow>();

  /** Subclasses that persist (JSONL) keep no content: it would live only as long as the process. */
  readonly content: ContentStore | undefined = new MemoryContentStore();
  private horizon = 0;
  /** Subclasses whose files cannot lose a prefix (JSONL) do not prune. */
  readonly pruning: PrunableStore | undefined = {
    prunedBelow: async () => this.horizon,
    firstKeptIndex: async (from, before) => this.rows.find((r) => r.index >= from && r.envelope.ts >= before)?.index ?? (await this.size()),
    prune: async (below, limit) => {
      this.horizon = Math.max(this.horizon, below);
      const doomed = this.rows.slice(0, limit).filter((r) => r.index < below);
      this.rows.splice(0, doomed.length);
      for (const row of doomed) this.byId.delete(row.envelope.id);
      return doomed.length;
    },
  };

  async append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    const batch = this.sequence(entries, request);
    this.remember(batch);
    (this.content as MemoryContentStore | undefined)?.add(batch.placed);
    return batch.appended;
  }

  /**
   * Numbers a batch where the log ends and signs the new head (see Sequencer). Synchronous up to
   * the write that follows, so appends in flight cannot interleave.
   */
  protected sequence(entries: readonly NewEntry[], request: AppendRequest): SequencedEntries {
    const fresh = request.replayed ? entries.filter((e) => !this.byId.has(e.id)) : entries;
    const leaves = new Uint8Array(fresh.length * 32);
    fresh.forEach((e, i) => leaves.set(e.leafHash, i * 32));
    const { first, head } = request.sequencer.sequence(this.sealedHead, leaves, {
      ...(request.raiseHorizon === undefined ? {} : { raiseHorizon: request.raiseHorizon }),
      storedLeaves: () => this.leaves.slice(0, this.nextIndex()),
    });
    // A head behind the rows would number the batch over them (the ledger adopts the tree it checked instead).
    if (fresh.length > 0 && first < this.nextIndex())
      throw new StoreError(`${this.location}: the signed head (size ${first}) lies behind the stored rows (${this.nextIndex()}); run 'llm-ledger verify'`);
    const placed = fresh.map((e, i) => ({ ...e, index: first + i }));
    const index = new Map(fresh.map((e, i) => [e, first + i]));
    const indexes = entries.map((e) => index.get(e) ?? -1);
    const signed = { size: head.size, note: head.note };
    const appended: Appended = { indexes, head: signed, ...(request.checkpoint ? { checkpoint: signed } : {}) };
    return { placed, head, appended };
  }

  /** Adds to the in-memory view only; subclasses persist first. */
  protected remember(batch: { placed: readonly AppendEntry[]; head?: StoredHead; appended?: Appended }): void {
    for (const entry of batch.placed) {
      const row = { index: entry.index, canonical: entry.canonical, envelope: JSON.parse(entry.canonical) as Envelope };
      this.rows.push(row);
      this.byId.set(entry.id, row);
      this.leaves[entry.index] = entry.leafHash;
    }
    if (batch.appended?.checkpoint) this.published.push({ ...batch.appended.checkpoint });
    if (batch.head) this.sealedHead = batch.head;
  }

  async head(): Promise<StoredCheckpoint | undefined> {
    return this.sealedHead && { size: this.sealedHead.size, note: this.sealedHead.note };
  }

  async size(): Promise<number> {
    return this.nextIndex();
  }

  private nextIndex(): number {
    const last = this.rows.at(-1);
    return last ? last.index + 1 : 0;
  }

  async leafHashes(from: number, to: number): Promise<Buffer[]> {
    return this.leaves.slice(from, to);
  }

  async *scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    const builder = new LeafBatchBuilder(batchSize);
    for (const row of this.rows) {
      const batch = builder.add(row.index, leafHashOfText(row.canonical), this.leaves[row.index]);
      if (batch) yield batch;
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  async getById(id: string): Promise<LoggedRecord | undefined> {
    const row = this.byId.get(id);
    return row && { index: row.index, envelope: row.envelope };
  }

  async search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]> {
    const found: LoggedRecord[] = [];
    for (let i = this.rows.length - 1; i >= 0 && found.length < page.limit; i--) {
      const row = this.rows[i] as MemoryRow;
      if (page.beforeIndex !== undefined && row.index >= page.beforeIndex) continue;
      if (matchesFilter(row.envelope, filter)) found.push({ index: row.index, envelope: row.envelope });
    }
    return found;
  }

  async *scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    let batch: LoggedRecord[] = [];
    for (const row of this.rows) {
      if (!matchesFilter(row.envelope, filter)) continue;
      batch.push({ index: row.index, envelope: row.envelope });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async *statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns> {
    const builder = new StatsColumnsBuilder(request);
    for (const row of this.rows) {
      if (!matchesFilter(row.envelope, filter)) continue;
      const batch = builder.addEnvelope(row.envelope);
      if (batch) yield batch;
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return [...this.published];
  }

  async close(): Promise<void> {}
}

import type { LoggedRecord } from '../../record/types.js';
import type { ContentStore } from '../../store/content.js';
import type { LeafBatch } from '../../store/leaf-scan.js';
import type { PrunableStore } from '../../store/pruning.js';
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
} from '../../store/store.js';

/**
 * A real store with failure injection: while `down`, every append fails as a store that lost its
 * disk or connection would, and nothing reaches the store underneath. Reads keep working, as they
 * often do when only writes fail (a full disk).
 */
export class FailingStore implements Store {
  down = false;
  /** Appends refused while down, and appends that went through. */
  refused = 0;
  appended = 0;

  constructor(private readonly inner: Store) {}

  get location(): string {
    return this.inner.location;
  }
  get content(): ContentStore | undefined {
    return this.inner.content;
  }
  get pruning(): PrunableStore | undefined {
    return this.inner.pruning;
  }

  async append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    if (this.down) {
      this.refused++;
      throw new StoreError(`cannot append to ${this.inner.location}: disk I/O error (injected)`);
    }
    const appended = await this.inner.append(entries, request);
    this.appended += entries.length;
    return appended;
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  leafHashes(from: number, to: number): Promise<Buffer[]> {
    return this.inner.leafHashes(from, to);
  }
  scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    return this.inner.scanLeaves(batchSize);
  }
  getById(id: string): Promise<LoggedRecord | undefined> {
    return this.inner.getById(id);
  }
  search(filter: SearchFilter, page: SearchPage): Promise<LoggedRecord[]> {
    return this.inner.search(filter, page);
  }
  scan(filter: SearchFilter, batchSize: number): AsyncIterable<LoggedRecord[]> {
    return this.inner.scan(filter, batchSize);
  }
  statsColumns(filter: SearchFilter, request: StatsColumnsRequest): AsyncIterable<StatsColumns> {
    return this.inner.statsColumns(filter, request);
  }
  checkpoints(): Promise<StoredCheckpoint[]> {
    return this.inner.checkpoints();
  }
  head(): Promise<StoredCheckpoint | undefined> {
    return this.inner.head();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

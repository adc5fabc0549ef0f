import { MemoryDataKeyStore } from '../../crypto/memory-data-key-store.js';
import type { ContentSelector, ContentStore, StoredContent } from '../content.js';
import type { AppendEntry } from '../store.js';

/** Content and data keys held in memory, for the memory store. */
export class MemoryContentStore implements ContentStore {
  readonly dataKeys = new MemoryDataKeyStore();
  private items: StoredContent[] = [];

  add(entries: readonly AppendEntry[]): void {
    for (const e of entries) {
      for (const item of e.content?.items ?? []) this.items.push({ ...item, index: e.index, recordId: e.id, ts: e.content!.ts });
    }
  }

  async get(index: number): Promise<StoredContent[]> {
    return this.items.filter((item) => item.index === index);
  }

  async delete(selector: ContentSelector, limit: number): Promise<number> {
    const matches = 'subject' in selector ? (i: StoredContent) => i.subject === selector.subject : (i: StoredContent) => i.ts < selector.before;
    const doomed = new Set(
      this.items
        .filter(matches)
        .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.index - b.index))
        .slice(0, limit),
    );
    this.items = this.items.filter((item) => !doomed.has(item));
    return doomed.size;
  }
}

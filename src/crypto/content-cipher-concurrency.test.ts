import { describe, expect, it } from 'vitest';
import type { DataKeyStore, WrappedDataKey } from './data-key-store.js';
import { MemoryDataKeyStore } from './memory-data-key-store.js';
import { cipherWith, testKek } from './test-support/ciphers.js';

/** Counts what reaches the store, as a SQLite store's writer thread would see it. */
class CountingStore extends MemoryDataKeyStore implements DataKeyStore {
  adds = 0;
  gets = 0;
  override async get(subject: string) {
    this.gets++;
    return super.get(subject);
  }
  override async add(key: WrappedDataKey) {
    this.adds++;
    return super.add(key);
  }
}

describe('a burst of encryptions for subjects never seen before', () => {
  it('creates one data key per subject and reads each subject from the store about once', async () => {
    const store = new CountingStore();
    const cipher = cipherWith([testKek(1)], store);
    const subjects = Array.from({ length: 50 }, (_, i) => `user:${i}`);
    const sealed = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => cipher.encrypt({ recordId: `r${i}`, field: 'content', subject: subjects[i % 50]!, plaintext: `text ${i}` })),
    );
    expect(store.adds).toBe(50);
    // One read to find no key, one after adding it: never one per encryption.
    expect(store.gets).toBeLessThanOrEqual(100);
    expect((await store.get('user:7')).keys).toHaveLength(1);
    expect(await cipher.decrypt({ recordId: 'r7', field: 'content', ciphertext: sealed[7]! })).toBe('text 7');
  });
});

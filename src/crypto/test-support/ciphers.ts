import { ContentCipher } from '../content-cipher.js';
import type { DataKeyStore } from '../data-key-store.js';
import { KekRing, kekFromText, type KeyEncryptionKey } from '../kek.js';
import { MemoryDataKeyStore } from '../memory-data-key-store.js';

/** A KEK from fixed material, so tests can make "the same" KEK twice. */
export function testKek(seed: number): KeyEncryptionKey {
  return kekFromText(seed.toString(16).padStart(2, '0').repeat(32), `test KEK ${seed}`);
}

export function cipherWith(keks: readonly KeyEncryptionKey[], store: DataKeyStore = new MemoryDataKeyStore(), cacheSubjects?: number): ContentCipher {
  return new ContentCipher({ keks: new KekRing(keks), store, ...(cacheSubjects === undefined ? {} : { cacheSubjects }) });
}

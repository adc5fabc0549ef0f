import { describe, expect, it } from 'vitest';
import { ContentDecryptionError } from './content-errors.js';
import type { DataKeyStore } from './data-key-store.js';
import { MemoryDataKeyStore } from './memory-data-key-store.js';
import { cipherWith, testKek } from './test-support/ciphers.js';

const oldKek = testKek(1);
const newKek = testKek(2);
const record = (n: number) => ({ recordId: `rec-${n}`, field: 'prompt' });

async function kekIds(store: DataKeyStore, subject: string): Promise<string[]> {
  return (await store.get(subject)).keys.map((k) => k.kekId);
}

describe('KEK rotation', () => {
  it('keeps old content readable, wraps new data keys with the newest KEK, and rewrap moves old ones without touching content', async () => {
    const store = new MemoryDataKeyStore();
    const before = cipherWith([oldKek], store);
    const oldCiphertext = await before.encrypt({ ...record(1), subject: 'alice', plaintext: 'old' });

    // Rotation: the new KEK is appended; the old one stays until everything is rewrapped.
    const after = cipherWith([oldKek, newKek], store);
    expect(await after.decrypt({ ...record(1), ciphertext: oldCiphertext })).toBe('old');
    const newCiphertext = await after.encrypt({ ...record(2), subject: 'bob', plaintext: 'new' });
    expect(await kekIds(store, 'bob')).toEqual([newKek.id]);
    expect(await kekIds(store, 'alice')).toEqual([oldKek.id]);

    expect(await after.rewrap('alice')).toEqual({ rewrapped: 1 });
    expect(await kekIds(store, 'alice')).toEqual([newKek.id]);
    expect(await after.rewrap('alice')).toEqual({ rewrapped: 0 });

    // With every data key rewrapped, the old KEK can be retired: the same ciphertexts still open.
    const retired = cipherWith([newKek], store);
    expect(await retired.decrypt({ ...record(1), ciphertext: oldCiphertext })).toBe('old');
    expect(await retired.decrypt({ ...record(2), ciphertext: newCiphertext })).toBe('new');
  });

  it('rewrapAll moves every subject and every data key version', async () => {
    const store = new MemoryDataKeyStore();
    const before = cipherWith([oldKek], store);
    const sealed = await Promise.all(['a', 'b', 'c'].map((subject, i) => before.encrypt({ ...record(i), subject, plaintext: subject })));
    await before.rotateDataKey('a');
    const after = cipherWith([oldKek, newKek], store);
    expect(await after.rewrapAll()).toEqual({ subjects: 3, rewrapped: 4 });
    const retired = cipherWith([newKek], store);
    expect(await Promise.all(sealed.map((ciphertext, i) => retired.decrypt({ ...record(i), ciphertext })))).toEqual(['a', 'b', 'c']);
  });

  it('rewrap fails readably when the KEK that wrapped a data key is no longer configured', async () => {
    const store = new MemoryDataKeyStore();
    await cipherWith([oldKek], store).encrypt({ ...record(1), subject: 'alice', plaintext: 'x' });
    await expect(cipherWith([newKek], store).rewrap('alice')).rejects.toThrow(`wrapped by key-encryption key ${oldKek.id}, which is not configured`);
  });
});

describe('data key rotation', () => {
  it('adds a version that new content uses, while content under older versions still decrypts', async () => {
    const store = new MemoryDataKeyStore();
    const cipher = cipherWith([oldKek], store);
    const v1 = await cipher.encrypt({ ...record(1), subject: 'alice', plaintext: 'under v1' });
    expect(await cipher.rotateDataKey('alice')).toEqual({ version: 2 });
    const v2 = await cipher.encrypt({ ...record(2), subject: 'alice', plaintext: 'under v2' });
    expect(v2.readUInt32BE(3 + 'alice'.length)).toBe(2);
    expect(await cipher.decrypt({ ...record(1), ciphertext: v1 })).toBe('under v1');
    expect(await cipher.decrypt({ ...record(2), ciphertext: v2 })).toBe('under v2');
  });

  it('is seen by another cipher sharing the store, even with the old version cached', async () => {
    const store = new MemoryDataKeyStore();
    const reader = cipherWith([oldKek], store);
    const writer = cipherWith([oldKek], store);
    await reader.decrypt({ ...record(1), ciphertext: await writer.encrypt({ ...record(1), subject: 'alice', plaintext: 'v1' }) });
    await writer.rotateDataKey('alice');
    const v2 = await writer.encrypt({ ...record(2), subject: 'alice', plaintext: 'v2' });
    expect(await reader.decrypt({ ...record(2), ciphertext: v2 })).toBe('v2');
  });

  it('creates one data key when many first encryptions for a subject race', async () => {
    const store = new MemoryDataKeyStore();
    const ciphers = [cipherWith([oldKek], store), cipherWith([oldKek], store)];
    const sealed = await Promise.all(Array.from({ length: 20 }, (_, i) => ciphers[i % 2]?.encrypt({ ...record(i), subject: 'alice', plaintext: `t${i}` })));
    expect((await store.get('alice')).keys.map((k) => k.version)).toEqual([1]);
    for (const [i, ciphertext] of sealed.entries())
      expect(await ciphers[0]?.decrypt({ ...record(i), ciphertext: ciphertext ?? Buffer.alloc(0) })).toBe(`t${i}`);
  });
});

describe('destroySubject (crypto-shredding)', () => {
  it("makes that subject's content undecryptable with key-erased, while another subject still decrypts", async () => {
    const store = new MemoryDataKeyStore();
    const cipher = cipherWith([oldKek], store);
    const alice1 = await cipher.encrypt({ ...record(1), subject: 'alice', plaintext: 'alice one' });
    await cipher.rotateDataKey('alice');
    const alice2 = await cipher.encrypt({ ...record(2), subject: 'alice', plaintext: 'alice two' });
    const bob = await cipher.encrypt({ ...record(3), subject: 'bob', plaintext: 'bob' });

    expect(await cipher.destroySubject('alice')).toEqual({ keysDestroyed: 2 });

    for (const [n, ciphertext] of [alice1, alice2].entries()) {
      const err = await cipher.decrypt({ ...record(n + 1), ciphertext }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContentDecryptionError);
      expect(err).toMatchObject({ reason: 'key-erased' });
      expect((err as Error).message).toMatch(/was destroyed when its subject was erased; this content can never be decrypted/);
    }
    expect(await cipher.decrypt({ ...record(3), ciphertext: bob })).toBe('bob');
    expect(await store.subjects()).toEqual(['bob']);
    expect(await cipher.destroySubject('alice')).toEqual({ keysDestroyed: 0 });
  });

  it('evicts the cached key, so nothing in this process can still decrypt', async () => {
    const store = new MemoryDataKeyStore();
    const cipher = cipherWith([oldKek], store);
    const ciphertext = await cipher.encrypt({ ...record(1), subject: 'alice', plaintext: 'cached' });
    expect(await cipher.decrypt({ ...record(1), ciphertext })).toBe('cached');
    await cipher.destroySubject('alice');
    await expect(cipher.decrypt({ ...record(1), ciphertext })).rejects.toMatchObject({ reason: 'key-erased' });
  });

  it('gives a returning subject a fresh data key version; erased content stays erased', async () => {
    const cipher = cipherWith([oldKek]);
    const before = await cipher.encrypt({ ...record(1), subject: 'alice', plaintext: 'before' });
    await cipher.destroySubject('alice');
    const after = await cipher.encrypt({ ...record(2), subject: 'alice', plaintext: 'after' });
    expect(after.readUInt32BE(3 + 'alice'.length)).toBe(2);
    expect(await cipher.decrypt({ ...record(2), ciphertext: after })).toBe('after');
    await expect(cipher.decrypt({ ...record(1), ciphertext: before })).rejects.toMatchObject({ reason: 'key-erased' });
  });
});

describe('the data key cache', () => {
  it('holds a bounded number of subjects and reloads evicted ones from the store', async () => {
    const store = new MemoryDataKeyStore();
    let reads = 0;
    const counting: DataKeyStore = {
      get: (s) => (reads++, store.get(s)),
      add: (k) => store.add(k),
      replace: (k) => store.replace(k),
      destroy: (s) => store.destroy(s),
      subjects: () => store.subjects(),
    };
    const cipher = cipherWith([oldKek], counting, 2);
    const sealed = [];
    for (const subject of ['a', 'b', 'c']) sealed.push(await cipher.encrypt({ ...record(1), subject, plaintext: subject }));
    reads = 0;
    expect(await cipher.decrypt({ ...record(1), ciphertext: sealed[2] ?? Buffer.alloc(0) })).toBe('c');
    expect(reads).toBe(0);
    expect(await cipher.decrypt({ ...record(1), ciphertext: sealed[0] ?? Buffer.alloc(0) })).toBe('a');
    expect(reads).toBe(1);
  });
});

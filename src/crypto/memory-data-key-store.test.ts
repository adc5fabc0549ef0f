import { describe, expect, it } from 'vitest';
import type { WrappedDataKey } from './data-key-store.js';
import { MemoryDataKeyStore } from './memory-data-key-store.js';

const key = (subject: string, version: number, kekId = 'kek-1'): WrappedDataKey => ({ subject, version, kekId, wrapped: Buffer.alloc(60, version) });

describe('MemoryDataKeyStore', () => {
  it('adds versions and refuses a version that already exists', async () => {
    const store = new MemoryDataKeyStore();
    expect(await store.add(key('alice', 1))).toBe(true);
    expect(await store.add(key('alice', 1, 'kek-2'))).toBe(false);
    expect(await store.add(key('alice', 2))).toBe(true);
    const { keys, erasedThrough } = await store.get('alice');
    expect(keys.map((k) => [k.version, k.kekId])).toEqual([
      [1, 'kek-1'],
      [2, 'kek-1'],
    ]);
    expect(erasedThrough).toBe(0);
  });

  it('replaces the wrapping of an existing version only', async () => {
    const store = new MemoryDataKeyStore();
    await store.add(key('alice', 1));
    expect(await store.replace(key('alice', 1, 'kek-2'))).toBe(true);
    expect(await store.replace(key('alice', 2, 'kek-2'))).toBe(false);
    expect(await store.replace(key('bob', 1, 'kek-2'))).toBe(false);
    expect((await store.get('alice')).keys.map((k) => k.kekId)).toEqual(['kek-2']);
  });

  it('destroys every version, remembers the highest, and never lets an erased version back', async () => {
    const store = new MemoryDataKeyStore();
    await store.add(key('alice', 1));
    await store.add(key('alice', 2));
    expect(await store.destroy('alice')).toBe(2);
    expect(await store.get('alice')).toEqual({ keys: [], erasedThrough: 2 });
    expect(await store.add(key('alice', 2))).toBe(false);
    expect(await store.add(key('alice', 3))).toBe(true);
    expect(await store.destroy('nobody')).toBe(0);
  });

  it('lists only subjects that hold keys', async () => {
    const store = new MemoryDataKeyStore();
    await store.add(key('alice', 1));
    await store.add(key('bob', 1));
    await store.destroy('bob');
    expect(await store.subjects()).toEqual(['alice']);
  });

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const store = new MemoryDataKeyStore();
    await store.add(key('alice', 1));
    const [first] = (await store.get('alice')).keys;
    first?.wrapped.fill(0xff);
    expect((await store.get('alice')).keys[0]?.wrapped).toEqual(Buffer.alloc(60, 1));
  });
});

/**
 * The shared suite's part on content (`Store.content`, src/store/content.ts): kept beside its
 * record in the batch's own transaction, read back per index, deleted by subject or by time in
 * limits, never part of the envelope or its leaf; and the data keys kept with it. A store declared
 * without content must lack it and refuse a batch that carries some.
 */
import { describe, expect, it } from 'vitest';
import type { WrappedDataKey } from '../../crypto/data-key-store.js';
import type { RecordInput } from '../../record/types.js';
import type { ContentStore } from '../content.js';
import { LEAF_MATCHES } from '../leaf-scan.js';
import { StoreError } from '../store.js';
import { contentRows, entriesFor, expectedContent, item, SAMPLE, scanned, testWriter, withContent, type SuiteState } from './conformance-fixtures.js';

/** Four records; the second is back-dated, so time and log order disagree (content retention goes by time). */
const DATED: RecordInput[] = [
  { timestamp: '2026-01-03T00:00:00.000Z', model: 'gpt-4o', user: 'alice', status: 'success' },
  { timestamp: '2026-01-01T00:00:00.000Z', model: 'gpt-4o', user: 'bob', status: 'success' },
  { timestamp: '2026-01-02T00:00:00.000Z', model: 'gpt-4o', user: 'alice', status: 'success' },
  { timestamp: '2026-01-05T00:00:00.000Z', model: 'gpt-4o', user: 'alice', status: 'success' },
];

export function contentConformance(t: SuiteState): void {
  if (!t.harness.content) {
    describe('without content (declared by the harness)', () => {
      it('has no content store, and refuses a batch that carries content, storing none of the batch', async () => {
        expect(t.store.content).toBeUndefined();
        const entries = entriesFor(SAMPLE);
        const { head } = await t.append(entries.slice(0, 1));
        const refused = t.append([entries[1]!, withContent(entries[2]!, item('plaintext', 'user:alice', 'not kept'))], { checkpoint: true });
        await expect(refused).rejects.toThrow(StoreError);
        await expect(refused).rejects.toThrow(/cannot keep content/);
        expect(await t.store.size()).toBe(1);
        expect(await t.store.head()).toEqual(head);
        expect(await t.store.checkpoints()).toEqual([]);
        expect(await t.store.getById(entries[1]!.id)).toBeUndefined();
        // The refusal leaves the store as it was: the next batch lands where the log ends.
        expect((await t.append(entries.slice(1, 3))).indexes).toEqual([1, 2]);
      });
    });
    return;
  }

  describe('content', () => {
    const content = (): ContentStore => t.store.content!;

    it('keeps content beside its record, read back by index, apart from the envelope and its leaf', async () => {
      expect(t.store.content).toBeDefined();
      const entries = entriesFor(SAMPLE);
      const sealed = item('encrypted', 'user:alice', 'sealed input');
      const plain = item('plaintext', 'user:alice', 'plain output');
      const bobs = item('plaintext', 'user:bob', "bob's input");
      await t.append([withContent(entries[0]!, sealed, plain), withContent(entries[1]!, bobs), entries[2]!]);
      await t.append([withContent(entries[3]!, item('encrypted', 'tenant:acme', 'later batch'))]);
      expect(contentRows(await content().get(0))).toEqual(expectedContent(entries[0]!, 0, sealed, plain));
      expect(contentRows(await content().get(1))).toEqual(expectedContent(entries[1]!, 1, bobs));
      expect(await content().get(2)).toEqual([]);
      expect(contentRows(await content().get(3))).toEqual(expectedContent(entries[3]!, 3, item('encrypted', 'tenant:acme', 'later batch')));
      expect(await content().get(4)).toEqual([]);
      // Not in the envelope, not in the leaf: the records are the entries as sealed without content.
      expect(await t.store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
      const record = await t.store.getById(entries[0]!.id);
      expect(record?.envelope).toEqual(JSON.parse(entries[0]!.canonical));
      expect(JSON.stringify(record)).not.toContain('plain output');
      expect((await scanned(t.store, 10)).rows.map((r) => r.committed)).toEqual([LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES]);
    });

    it('stores no content of a batch that is refused', async () => {
      const entries = entriesFor(SAMPLE);
      await t.append(entries.slice(0, 1));
      const stranger = testWriter();
      await expect(stranger.append(t.store, [withContent(entries[1]!, item('plaintext', 'user:bob', 'refused'))])).rejects.toThrow(
        /stored head does not verify/,
      );
      expect(await content().get(1)).toEqual([]);
      expect(await content().delete({ subject: 'user:bob' }, 10)).toBe(0);
      const kept = item('plaintext', 'user:bob', 'stored');
      await t.append([withContent(entries[1]!, kept)]);
      expect(contentRows(await content().get(1))).toEqual(expectedContent(entries[1]!, 1, kept));
    });

    it('keeps the content first stored for a replayed record it already holds, and stores the rest', async () => {
      const entries = entriesFor(SAMPLE);
      const first = item('plaintext', 'user:alice', 'first commit');
      await t.append([withContent(entries[0]!, first)]);
      const fresh = item('plaintext', 'user:bob', 'replayed, new');
      const replayed = await t.append([withContent(entries[0]!, item('plaintext', 'user:alice', 'replayed copy')), withContent(entries[1]!, fresh)], {
        replayed: true,
      });
      expect(replayed.indexes).toEqual([-1, 1]);
      expect(contentRows(await content().get(0))).toEqual(expectedContent(entries[0]!, 0, first));
      expect(contentRows(await content().get(1))).toEqual(expectedContent(entries[1]!, 1, fresh));
    });

    it("deletes one subject's content in limits, oldest first, and leaves the records and others' content alone", async () => {
      // In time order: which of log order or time comes first for a subject is not promised.
      const entries = entriesFor(SAMPLE);
      const a = (text: string, mode: 'encrypted' | 'plaintext' = 'plaintext') => item(mode, 'user:alice', text);
      const bobs = item('plaintext', 'user:bob', 'bob');
      await t.append([withContent(entries[0]!, a('0 sealed', 'encrypted'), a('0 plain')), withContent(entries[1]!, bobs)]);
      await t.append([withContent(entries[2]!, a('2')), withContent(entries[3]!, a('3'))]);
      expect(await content().delete({ subject: 'user:alice' }, 2)).toBe(2);
      expect(await content().get(0)).toEqual([]);
      expect(contentRows(await content().get(2))).toEqual(expectedContent(entries[2]!, 2, a('2')));
      expect(await content().delete({ subject: 'user:alice' }, 1)).toBe(1);
      expect(await content().get(2)).toEqual([]);
      expect(await content().delete({ subject: 'user:alice' }, 10)).toBe(1);
      expect(await content().delete({ subject: 'user:alice' }, 10)).toBe(0);
      expect(await content().get(3)).toEqual([]);
      expect(contentRows(await content().get(1))).toEqual(expectedContent(entries[1]!, 1, bobs));
      expect(await t.store.size()).toBe(4);
      expect(await t.store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
      expect((await t.store.search({ user: 'alice' }, { limit: 10 })).map((r) => r.index)).toEqual([3, 0]);
      expect((await scanned(t.store, 2)).rows.map((r) => r.committed)).toEqual([LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES]);
    });

    it('deletes content older than a time in limits, oldest by time first (not by index), the time itself kept', async () => {
      const entries = entriesFor(DATED);
      const items = entries.map((_, i) => item('plaintext', i % 2 ? 'user:bob' : 'user:alice', `record ${i}`));
      await t.append(entries.map((e, i) => withContent(e, items[i]!)));
      const before = '2026-01-05T00:00:00.000Z'; // record 3's own time: kept
      expect(await content().delete({ before }, 1)).toBe(1);
      expect(await content().get(1)).toEqual([]); // the back-dated record 1 is the oldest
      expect(contentRows(await content().get(0))).toEqual(expectedContent(entries[0]!, 0, items[0]!));
      expect(await content().delete({ before }, 1)).toBe(1);
      expect(await content().get(2)).toEqual([]);
      expect(contentRows(await content().get(0))).toEqual(expectedContent(entries[0]!, 0, items[0]!));
      expect(await content().delete({ before }, 5)).toBe(1);
      expect(await content().delete({ before }, 5)).toBe(0);
      expect(await content().get(0)).toEqual([]);
      expect(contentRows(await content().get(3))).toEqual(expectedContent(entries[3]!, 3, items[3]!));
      expect((await t.store.search({}, { limit: 10 })).map((r) => r.index)).toEqual([3, 2, 1, 0]);
    });

    it('keeps wrapped data keys: versions added once, rewrapped, destroyed with the highest remembered', async () => {
      const keys = content().dataKeys;
      const key = (subject: string, version: number, kekId = 'kek-1'): WrappedDataKey => ({ subject, version, kekId, wrapped: Buffer.alloc(60, version) });
      expect(await keys.get('user:alice')).toEqual({ keys: [], erasedThrough: 0 });
      expect(await keys.add(key('user:alice', 1))).toBe(true);
      expect(await keys.add(key('user:alice', 1, 'kek-2'))).toBe(false);
      expect(await keys.add(key('user:alice', 2))).toBe(true);
      expect(await keys.add(key('user:bob', 1))).toBe(true);
      expect(await keys.get('user:alice')).toEqual({ keys: [key('user:alice', 1), key('user:alice', 2)], erasedThrough: 0 });
      expect(await keys.replace(key('user:alice', 1, 'kek-2'))).toBe(true);
      expect(await keys.replace(key('user:alice', 3, 'kek-2'))).toBe(false);
      expect((await keys.get('user:alice')).keys.map((k) => k.kekId)).toEqual(['kek-2', 'kek-1']);
      expect((await keys.subjects()).sort()).toEqual(['user:alice', 'user:bob']);
      expect(await keys.destroy('user:alice')).toBe(2);
      expect(await keys.get('user:alice')).toEqual({ keys: [], erasedThrough: 2 });
      expect(await keys.subjects()).toEqual(['user:bob']);
      expect(await keys.add(key('user:alice', 2))).toBe(false);
      expect(await keys.add(key('user:alice', 3))).toBe(true);
      expect(await keys.destroy('user:nobody')).toBe(0);
      expect(await keys.get('user:bob')).toEqual({ keys: [key('user:bob', 1)], erasedThrough: 0 });
    });
  });
}

/**
 * The shared suite's part on pruning (`Store.pruning`, src/store/pruning.ts): a horizon that only
 * rises, the first record to keep, and prune deleting a prefix of the log below the horizon in
 * limits, oldest first, while every leaf hash stays. A store declared without pruning must lack it.
 */
import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../../record/types.js';
import { LEAF_MATCHES } from '../leaf-scan.js';
import type { PrunableStore } from '../pruning.js';
import { entriesFor, scanned, type SuiteState } from './conformance-fixtures.js';

/** Six records of one day (so no store can take a whole day at once); the fourth is back-dated. */
const ONE_DAY: RecordInput[] = ['01', '02', '03', '00', '05', '06'].map((hour, i) => ({
  timestamp: `2026-01-01T${hour}:00:00.000Z`,
  model: 'gpt-4o',
  user: `user-${i}`,
  status: 'success',
}));

/** Five records, a day each. */
const DAYS: RecordInput[] = [1, 2, 3, 4, 5].map((day) => ({ timestamp: `2026-01-0${day}T12:00:00.000Z`, model: 'gpt-4o', status: 'success' }));

export function pruningConformance(t: SuiteState): void {
  if (!t.harness.pruning) {
    describe('without pruning (declared by the harness)', () => {
      it('has no pruning', () => {
        expect(t.store.pruning).toBeUndefined();
      });
    });
    return;
  }

  describe('pruning', () => {
    const pruning = (): PrunableStore => t.store.pruning!;
    const stored = async () => (await t.store.search({}, { limit: 100 })).map((r) => r.index).reverse();

    it('starts with nothing pruned, and nothing to keep in an empty log', async () => {
      expect(t.store.pruning).toBeDefined();
      expect(await pruning().prunedBelow()).toBe(0);
      expect(await pruning().firstKeptIndex(0, '2026-01-01T00:00:00.000Z')).toBe(0);
      expect(await pruning().prune(0, 10)).toBe(0);
      expect(await pruning().prunedBelow()).toBe(0);
    });

    it.each<[string, number, string, number]>([
      ['the first record at or after the time', 0, '2026-01-01T02:00:00.000Z', 1],
      ['the first at or after `from` only; a back-dated record after it is not looked at', 2, '2026-01-01T04:00:00.000Z', 4],
      ['`from` itself when it is new enough', 3, '2025-01-01T00:00:00.000Z', 3],
      ['the time itself is kept', 0, '2026-01-01T01:00:00.000Z', 0],
      ["the log's size when every record is older", 0, '2026-01-02T00:00:00.000Z', 6],
      ["the log's size from there", 6, '2025-01-01T00:00:00.000Z', 6],
    ])('finds the first record to keep: %s', async (_, from, before, expected) => {
      await t.append(entriesFor(ONE_DAY));
      expect(await pruning().firstKeptIndex(from, before)).toBe(expected);
    });

    it('prunes a prefix below the horizon only, in limits, oldest first, and keeps every leaf hash', async () => {
      const entries = entriesFor(ONE_DAY);
      await t.append(entries, { raiseHorizon: 3 });
      expect(await pruning().prune(3, 2)).toBe(2);
      expect(await pruning().prunedBelow()).toBe(3);
      expect(await stored()).toEqual([2, 3, 4, 5]);
      expect(await t.store.getById(entries[0]!.id)).toBeUndefined();
      expect((await t.store.getById(entries[2]!.id))?.index).toBe(2);
      // A limit larger than what lies below the horizon deletes nothing at or above it.
      expect(await pruning().prune(3, 10)).toBe(1);
      expect(await pruning().prune(3, 10)).toBe(0);
      expect(await stored()).toEqual([3, 4, 5]);
      // The horizon never goes down, and nothing is deleted for a lower one.
      expect(await pruning().prune(1, 10)).toBe(0);
      expect(await pruning().prunedBelow()).toBe(3);
      const scans: number[] = [];
      for await (const batch of t.store.scan({}, 2)) scans.push(...batch.map((r) => r.index));
      expect(scans).toEqual([3, 4, 5]);
      expect(await t.store.search({ user: 'user-1' }, { limit: 10 })).toEqual([]);
      // Leaves stay for the proofs that need them; the rows left still match theirs.
      expect(await t.store.leafHashes(0, 6)).toEqual(entries.map((e) => e.leafHash));
      expect((await scanned(t.store, 2)).rows.map((r) => [r.index, r.committed])).toEqual([3, 4, 5].map((i) => [i, LEAF_MATCHES]));
      // The log goes on where it ended, and the first record to keep is found from the horizon.
      expect(await t.store.size()).toBe(6);
      expect((await t.append(entriesFor(ONE_DAY.slice(0, 1)))).indexes).toEqual([6]);
      expect(await pruning().firstKeptIndex(3, '2026-01-01T04:00:00.000Z')).toBe(4);
    });

    it(`prunes records of whole days below the horizon${t.harness.pruning === 'whole days' ? ' (whole expired days at once, beyond the limit: declared)' : ' in limits'}`, async () => {
      const entries = entriesFor(DAYS);
      await t.append(entries);
      const counts: number[] = [];
      for (let n = -1; n !== 0;) {
        n = await pruning().prune(3, 1);
        counts.push(n);
        const left = await stored();
        // Always a prefix gone, never a record at or above the horizon.
        expect(left).toEqual([0, 1, 2, 3, 4].slice(5 - left.length));
        expect(left.length).toBeGreaterThanOrEqual(2);
      }
      if (t.harness.pruning !== 'whole days') expect(counts).toEqual([1, 1, 1, 0]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
      expect(await stored()).toEqual([3, 4]);
      expect(await t.store.leafHashes(0, 5)).toEqual(entries.map((e) => e.leafHash));
    });
  });
}

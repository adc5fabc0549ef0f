/**
 * The shared suite's part on what `scanLeaves` reports for rows changed or moved in storage
 * beneath the store (through the harness's `tamper` hook): each row as it is now, at the index it
 * claims, against the leaf committed for that index.
 */
import { describe, expect, it } from 'vitest';
import { leafHashOfText } from '../../log/merkle.js';
import { LEAF_DIFFERS, LEAF_MATCHES, LEAF_NOT_COMMITTED } from '../leaf-scan.js';
import { edited, entriesFor, SAMPLE, scanned, type SuiteState } from './conformance-fixtures.js';

export function tamperConformance(t: SuiteState): void {
  const tamper = t.harness.tamper;
  if (!tamper) return;

  describe('scanLeaves over rows tampered with in storage', () => {
    const hex = (leaf: Buffer) => leaf.toString('hex');

    it('reports a row whose bytes changed: the leaf of its bytes as they are now, differing from the committed one', async () => {
      const entries = entriesFor(SAMPLE);
      await t.append(entries);
      const text = edited(entries[1]!.canonical);
      await tamper.rewrite(t.store, 1, text);
      const { rows, batchSizes } = await scanned(t.store, 3);
      expect(batchSizes.every((n) => n > 0 && n <= 3)).toBe(true);
      expect(rows).toEqual([
        { index: 0, leaf: hex(entries[0]!.leafHash), committed: LEAF_MATCHES },
        { index: 1, leaf: hex(leafHashOfText(text)), committed: LEAF_DIFFERS },
        { index: 2, leaf: hex(entries[2]!.leafHash), committed: LEAF_MATCHES },
        { index: 3, leaf: hex(entries[3]!.leafHash), committed: LEAF_MATCHES },
      ]);
      // The committed leaf is kept apart from the row, so the change cannot reach it.
      expect(await t.store.leafHashes(1, 2)).toEqual([entries[1]!.leafHash]);
    });

    it('reports a row moved beyond the log at the index it claims, with no leaf committed there', async () => {
      const entries = entriesFor(SAMPLE);
      await t.append(entries);
      await tamper.move(t.store, 1, 9);
      expect((await scanned(t.store, 2)).rows).toEqual([
        { index: 0, leaf: hex(entries[0]!.leafHash), committed: LEAF_MATCHES },
        { index: 2, leaf: hex(entries[2]!.leafHash), committed: LEAF_MATCHES },
        { index: 3, leaf: hex(entries[3]!.leafHash), committed: LEAF_MATCHES },
        { index: 9, leaf: hex(entries[1]!.leafHash), committed: LEAF_NOT_COMMITTED },
      ]);
    });

    it('reports two rows that swapped places: each one differs from the leaf committed where it now claims to be', async () => {
      const entries = entriesFor(SAMPLE);
      await t.append(entries);
      await tamper.move(t.store, 1, 9);
      await tamper.move(t.store, 2, 1);
      await tamper.move(t.store, 9, 2);
      expect((await scanned(t.store, 10)).rows).toEqual([
        { index: 0, leaf: hex(entries[0]!.leafHash), committed: LEAF_MATCHES },
        { index: 1, leaf: hex(entries[2]!.leafHash), committed: LEAF_DIFFERS },
        { index: 2, leaf: hex(entries[1]!.leafHash), committed: LEAF_DIFFERS },
        { index: 3, leaf: hex(entries[3]!.leafHash), committed: LEAF_MATCHES },
      ]);
      expect(await t.store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
    });
  });
}

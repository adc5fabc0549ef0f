import { describe, expect, it } from 'vitest';
import { openCheckpoint } from './checkpoint.js';
import { leafHashOfText, MerkleFrontier, rootOf } from './merkle.js';
import { generateSignerKey } from './note.js';
import { Sequencer, SequencerError, type StoredHead } from './sequencer.js';

const ORIGIN = 'sequencer.example/log';
const key = generateSignerKey(ORIGIN);
const leaves = Array.from({ length: 12 }, (_, i) => leafHashOfText(`record ${i}`));
const batch = (from: number, to: number) => Buffer.concat(leaves.slice(from, to));
const signed = (head: { note: string }, sequencer: Sequencer) => openCheckpoint(head.note, sequencer.verifierKey, ORIGIN);

describe('Sequencer: numbering a batch where the log ends and signing the new head', () => {
  it('numbers from the stored head and signs the root of the whole tree', () => {
    const sequencer = new Sequencer(key, ORIGIN);
    const first = sequencer.sequence(undefined, batch(0, 3));
    expect(first.first).toBe(0);
    expect(signed(first.head, sequencer)).toMatchObject({ size: 3, root: rootOf(leaves.slice(0, 3)) });
    const second = sequencer.sequence(first.head, batch(3, 5));
    expect(second.first).toBe(3);
    expect(signed(second.head, sequencer).root).toEqual(rootOf(leaves.slice(0, 5)));
  });

  it("takes up another writer's head from its stored frontier", () => {
    const [one, two] = [new Sequencer(key, ORIGIN), new Sequencer(key, ORIGIN)];
    const a = one.sequence(undefined, batch(0, 2));
    const b = two.sequence(a.head, batch(2, 7));
    const c = one.sequence(b.head, batch(7, 8));
    expect([a.first, b.first, c.first]).toEqual([0, 2, 7]);
    expect(signed(c.head, one).root).toEqual(rootOf(leaves.slice(0, 8)));
  });

  it('goes back to the stored head when the store rolled back the batch it signed last', () => {
    const sequencer = new Sequencer(key, ORIGIN);
    const kept = sequencer.sequence(undefined, batch(0, 2));
    sequencer.sequence(kept.head, batch(2, 4)); // rolled back: the store keeps `kept`
    const next = sequencer.sequence(kept.head, batch(4, 5));
    expect(next.first).toBe(2);
    expect(signed(next.head, sequencer).root).toEqual(rootOf([...leaves.slice(0, 2), leaves[4]!]));
  });

  it('refuses a head whose frontier does not give its signed root, or whose note is not this log’s', () => {
    const writer = new Sequencer(key, ORIGIN);
    const { head } = writer.sequence(undefined, batch(0, 3));
    const other = new MerkleFrontier();
    for (const leaf of leaves.slice(5, 8)) other.append(leaf);
    const reader = new Sequencer(key, ORIGIN);
    expect(() => reader.sequence({ ...head, frontier: JSON.stringify(other.toJSON()) }, batch(3, 4))).toThrow(/does not give the root its signed note states/);
    expect(() => reader.sequence({ ...head, frontier: '{"size":3}' }, batch(3, 4))).toThrow(SequencerError);
    expect(() => new Sequencer(generateSignerKey(ORIGIN), ORIGIN).sequence(head, batch(3, 4))).toThrow(/stored head does not verify/);
    expect(() => reader.sequence({ ...head, size: 4 }, batch(3, 4))).toThrow(/says size 4 but its signed note says 3/);
  });

  it('rebuilds the tree from the stored leaves for a head without a frontier (a log from before frontiers)', () => {
    const { head } = new Sequencer(key, ORIGIN).sequence(undefined, batch(0, 5));
    const old: StoredHead = { size: head.size, note: head.note };
    expect([
      new Sequencer(key, ORIGIN).needsStoredLeaves(old),
      new Sequencer(key, ORIGIN).needsStoredLeaves(head),
      new Sequencer(key, ORIGIN).needsStoredLeaves(undefined),
    ]).toEqual([true, false, true]);
    const next = new Sequencer(key, ORIGIN).sequence(old, batch(5, 6), { storedLeaves: () => leaves.slice(0, 5) });
    expect(signed(next.head, new Sequencer(key, ORIGIN)).root).toEqual(rootOf(leaves.slice(0, 6)));
    expect(() => new Sequencer(key, ORIGIN).sequence(old, batch(5, 6), { storedLeaves: () => leaves.slice(1, 6) })).toThrow(SequencerError);
  });

  it('raises the pruning horizon it states, never lowers it, and signs again with no leaves', () => {
    const sequencer = new Sequencer(key, ORIGIN);
    const a = sequencer.sequence(undefined, batch(0, 4));
    const raised = sequencer.sequence(a.head, new Uint8Array(0), { raiseHorizon: 3 });
    expect(signed(raised.head, sequencer)).toMatchObject({ size: 4, prunedBelow: 3 });
    const lower = new Sequencer(key, ORIGIN).sequence(raised.head, batch(4, 5), { raiseHorizon: 1 });
    expect(signed(lower.head, sequencer).prunedBelow).toBe(3);
  });

  it('extends a tree an operator accepted beyond the stored head (repair --accept-unsealed)', () => {
    const sequencer = new Sequencer(key, ORIGIN);
    const { head } = sequencer.sequence(undefined, batch(0, 2));
    const accepted = new MerkleFrontier();
    for (const leaf of leaves.slice(0, 4)) accepted.append(leaf);
    const other = new Sequencer(key, ORIGIN);
    other.adopt(accepted);
    const next = other.sequence(head, batch(4, 5));
    expect(next.first).toBe(4);
    expect(signed(next.head, other).root).toEqual(rootOf(leaves.slice(0, 5)));
  });

  it('refuses leaf bytes that are not whole 32-byte hashes', () => {
    expect(() => new Sequencer(key, ORIGIN).sequence(undefined, new Uint8Array(33))).toThrow(/32 bytes each/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafChunks, rangeRoot, storedInclusionProof, type LeafReader } from './leaf-ranges.js';
import { inclusionProof, leafHash, MerkleError, rootOf, type Hash } from './merkle.js';

const leavesOf = (size: number, seed: number): Hash[] => Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${seed}/${i}`)));

/** A store's reader over `leaves`, missing the indexes in `gaps`, that counts what it was asked. */
function readerOf(leaves: Hash[], gaps: ReadonlySet<number> = new Set()): LeafReader & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  const read = async (from: number, to: number) => {
    reads.push([from, to]);
    return leaves.slice(from, to).filter((_, i) => !gaps.has(from + i));
  };
  return Object.assign(read, { reads });
}

describe('tree work over stored leaves, read a chunk at a time', () => {
  it('gives the same inclusion proofs as the whole tree in memory, for any tree, leaf and chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.integer({ min: 1, max: 9 }), fc.nat(), async (size, pick, chunk, seed) => {
        const leaves = leavesOf(size, seed);
        const index = pick % size;
        expect(await storedInclusionProof(index, size, readerOf(leaves), chunk)).toEqual(inclusionProof(index, leaves));
      }),
    );
  });

  it('folds a range to its RFC 9162 root, never asking for more than a chunk at once', async () => {
    const leaves = leavesOf(100, 1);
    const read = readerOf(leaves);
    expect(await rangeRoot(read, 10, 77, 8)).toEqual(rootOf(leaves.slice(10, 77)));
    expect(read.reads.every(([from, to]) => to - from <= 8 && from >= 10 && to <= 77)).toBe(true);
    expect(read.reads.reduce((n, [from, to]) => n + to - from, 0)).toBe(67);
  });

  it('refuses a range some of whose leaves are not stored, instead of hashing a different tree', async () => {
    const leaves = leavesOf(40, 2);
    await expect(rangeRoot(readerOf(leaves, new Set([13, 21])), 0, 32, 5)).rejects.toThrow(new MerkleError('2 of the leaves 0 to 31 are not stored'));
    await expect(storedInclusionProof(39, 40, readerOf(leaves, new Set([3])), 5)).rejects.toThrow(MerkleError);
  });

  it('reads a range in order, the last chunk cut at its end', async () => {
    const read = readerOf(leavesOf(10, 3));
    const sizes: number[] = [];
    for await (const leaves of leafChunks(read, 0, 10, 4)) sizes.push(leaves.length);
    expect(sizes).toEqual([4, 4, 2]);
    expect(read.reads).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
  });
});

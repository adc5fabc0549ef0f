import { inclusionRanges, MerkleError, MerkleFrontier, type Hash } from './merkle.js';

/*
 * Tree work over leaf hashes that stay where they are stored, read a chunk at a time. Holding a
 * whole log's leaf hashes took about 1.1 GB a million records (a Buffer per leaf), so a writable
 * open or a proof of a few million records ran out of memory; in chunks it is a few MB at any size.
 */

/** Reads the stored leaf hashes of indexes [from, to), in index order (fewer when some are missing). */
export type LeafReader = (from: number, to: number) => Promise<readonly Uint8Array[]>;

/** Leaves read at once: smaller batches die young (a row array of 65,536 was born in the old generation and kept its rows alive until a full collection); larger ones were no faster. */
export const LEAF_CHUNK = 1_024;

/** The stored leaves of [from, to), chunk by chunk, in index order. */
export async function* leafChunks(read: LeafReader, from: number, to: number, chunk = LEAF_CHUNK): AsyncGenerator<readonly Uint8Array[]> {
  for (let at = from; at < to; at += chunk) yield await read(at, Math.min(to, at + chunk));
}

/** MTH(D[from:to]); a MerkleError when fewer than to - from leaves are stored there. */
export async function rangeRoot(read: LeafReader, from: number, to: number, chunk = LEAF_CHUNK): Promise<Hash> {
  const frontier = new MerkleFrontier();
  for await (const leaves of leafChunks(read, from, to, chunk)) for (const leaf of leaves) frontier.append(leaf);
  if (frontier.size !== to - from) throw new MerkleError(`${to - from - frontier.size} of the leaves ${from} to ${to - 1} are not stored`);
  return frontier.root();
}

/** PATH(index, D[size]) as `inclusionProof` gives it, each sibling subtree folded from its stored leaves. */
export async function storedInclusionProof(index: number, size: number, read: LeafReader, chunk = LEAF_CHUNK): Promise<Hash[]> {
  const path: Hash[] = [];
  for (const [from, to] of inclusionRanges(index, size)) path.push(await rangeRoot(read, from, to, chunk));
  return path.reverse();
}

import { hash } from 'node:crypto';
import { sha256 } from '../crypto/sha256.js';
import { decodeStrictBase64 } from './base64.js';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) section 2.1, with SHA-256. Proof
 * generation works on the leaf hashes of the whole tree; verification needs only the proof.
 */

/** A SHA-256 digest: 32 bytes. */
export type Hash = Buffer;

export const HASH_SIZE = 32;

/** Misuse by the caller (an index outside the tree, a hash of the wrong size), never bad data. */
export class MerkleError extends Error {
  override readonly name = 'MerkleError';
}

const LEAF_PREFIX = Buffer.from([0x00]);
const EMPTY_ROOT = sha256(Buffer.alloc(0));
// Every node hash is computed in this one reused buffer: 0x01 || left || right.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

export function leafHash(data: Uint8Array): Hash {
  return sha256(Buffer.concat([LEAF_PREFIX, data]));
}

/** The leaf hash of UTF-8 text, without first copying the text into a buffer (the record hot path). */
export function leafHashOfText(text: string): Hash {
  return sha256(`\u0000${text}`);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new MerkleError('node children must be 32-byte hashes');
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** MTH({}) = SHA-256 of the empty string. */
export function emptyRoot(): Hash {
  return Buffer.from(EMPTY_ROOT);
}

/** MTH over leaf hashes (not leaf data). */
export function rootOf(leaves: readonly Uint8Array[]): Hash {
  requireLeafHashes(leaves);
  return subtreeRoot(leaves, 0, leaves.length);
}

/**
 * PATH(index, D[n]) of RFC 9162 section 2.1.3.1 for the tree of size leaves.length: sibling
 * subtree roots from the leaf up. The siblings are disjoint, so the whole proof hashes each
 * leaf at most once.
 */
export function inclusionProof(index: number, leaves: readonly Uint8Array[]): Hash[] {
  requireLeafHashes(leaves);
  return inclusionRanges(index, leaves.length)
    .map(([lo, hi]) => subtreeRoot(leaves, lo, hi))
    .reverse();
}

/**
 * The leaf ranges [lo, hi) whose subtree roots make PATH(index, D[size]), from the top of the
 * tree down (the proof lists them bottom up): what a proof must hash, wherever the leaves are.
 */
export function inclusionRanges(index: number, size: number): [number, number][] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new MerkleError(`leaf index ${index} is outside a tree of size ${size}`);
  }
  const ranges: [number, number][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo += k;
    }
  }
  return ranges;
}

/**
 * PROOF(oldSize, D[n]) of RFC 9162 section 2.1.4.1 for the tree of size leaves.length. The RFC
 * defines it for 0 < oldSize < n; the proof for 0 or n is empty, as verifyConsistency expects.
 */
export function consistencyProof(oldSize: number, leaves: readonly Uint8Array[]): Hash[] {
  requireLeafHashes(leaves);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > leaves.length) {
    throw new MerkleError(`old size ${oldSize} is outside 0..${leaves.length}`);
  }
  if (oldSize === 0 || oldSize === leaves.length) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step records one subtree root, outermost first.
  const proof: Hash[] = [];
  let lo = 0;
  let hi = leaves.length;
  let m = oldSize;
  let isOldRoot = true;
  for (;;) {
    if (m === hi - lo) {
      if (!isOldRoot) proof.push(subtreeRoot(leaves, lo, hi));
      break;
    }
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      proof.push(subtreeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeRoot(leaves, lo, lo + k));
      lo += k;
      m -= k;
      isOldRoot = false;
    }
  }
  return proof.reverse();
}

/** RFC 9162 section 2.1.3.2, step by step. Any malformed argument yields false. */
export function verifyInclusion(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isHash(leaf) || !isHash(root) || !isSize(index) || !isSize(treeSize) || !isHashList(proof)) return false;
  // 1.
  if (index >= treeSize) return false;
  // 2., 3.
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leaf;
  // 4.
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  return sn === 0 && sameHash(r, root);
}

/**
 * RFC 9162 section 2.1.4.2, step by step, for 0 < size1 < size2. Outside that range the RFC's
 * algorithm does not apply and the only honest proof is empty: equal sizes need equal roots, and
 * the empty tree is consistent with every tree provided its root really is the empty root.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!isSize(size1) || !isSize(size2) || !isHash(root1) || !isHash(root2) || !isHashList(proof)) return false;
  if (size1 > size2) return false;
  if (size1 === 0 && !sameHash(root1, EMPTY_ROOT)) return false;
  if (size1 === size2) return proof.length === 0 && sameHash(root1, root2);
  if (size1 === 0) return proof.length === 0;
  // 1.
  if (proof.length === 0) return false;
  // 2.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // 3.
  let fn = size1 - 1;
  let sn = size2 - 1;
  // 4.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sameHash(fr, root1) && sameHash(sr, root2) && sn === 0;
}

export interface MerkleFrontierJSON {
  size: number;
  /** Base64 roots of the perfect subtrees along the right edge, largest (leftmost) first. */
  hashes: string[];
}

/**
 * The right edge of the tree: one perfect-subtree root per set bit of the size. Enough to append
 * and to compute the current root without keeping the leaves.
 */
export class MerkleFrontier {
  private count = 0;
  private nodes: Bytes[] = [];

  static fromJSON(json: unknown): MerkleFrontier {
    const { size, hashes } = (json ?? {}) as Partial<MerkleFrontierJSON>;
    if (typeof size !== 'number' || !isSize(size)) throw new MerkleError('frontier size must be a non-negative safe integer');
    if (!Array.isArray(hashes) || hashes.length !== bitCount(size)) {
      throw new MerkleError(`a frontier of size ${size} needs ${bitCount(size)} hashes, got ${Array.isArray(hashes) ? hashes.length : 'none'}`);
    }
    const nodes = hashes.map((text: unknown, i) => {
      try {
        return toBytes(decodeStrictBase64(text as string, HASH_SIZE));
      } catch (err) {
        throw new MerkleError(`frontier hash ${i}: ${(err as Error).message}`);
      }
    });
    const frontier = new MerkleFrontier();
    frontier.count = size;
    frontier.nodes = nodes;
    return frontier;
  }

  get size(): number {
    return this.count;
  }

  append(leaf: Uint8Array): void {
    if (!isHash(leaf)) throw new MerkleError('append takes a 32-byte leaf hash');
    this.nodes.push(toBytes(leaf));
    // Each trailing one bit of the old size is a perfect subtree the new leaf now completes.
    for (let s = this.count; isOdd(s); s = half(s)) {
      const right = this.nodes.pop() as Bytes;
      const left = this.nodes.pop() as Bytes;
      this.nodes.push(join(left, right));
    }
    this.count++;
  }

  /** The root of the whole tree so far: O(log n) hashes. */
  root(): Hash {
    return foldRight(this.nodes) ?? emptyRoot();
  }

  clone(): MerkleFrontier {
    const copy = new MerkleFrontier();
    copy.count = this.count;
    copy.nodes = [...this.nodes];
    return copy;
  }

  toJSON(): MerkleFrontierJSON {
    return { size: this.count, hashes: this.nodes.map((b) => fromBytes(b).toString('base64')) };
  }
}

/**
 * MTH(D[lo:hi]) level by level: pairing neighbours and carrying a lone last node up unchanged
 * builds exactly the RFC's tree, whose left subtree is always the largest power of two.
 */
function subtreeRoot(leaves: readonly Uint8Array[], lo: number, hi: number): Hash {
  if (hi === lo) return emptyRoot();
  const level: Bytes[] = [];
  for (let i = lo; i + 1 < hi; i += 2) level.push(joinBytes(leaves[i] as Uint8Array, leaves[i + 1] as Uint8Array));
  if (isOdd(hi - lo)) level.push(toBytes(leaves[hi - 1] as Uint8Array));
  let n = level.length;
  while (n > 1) {
    let w = 0;
    for (let r = 0; r + 1 < n; r += 2) level[w++] = join(level[r] as Bytes, level[r + 1] as Bytes);
    if (isOdd(n)) level[w++] = level[n - 1] as Bytes;
    n = w;
  }
  return fromBytes(level[0] as Bytes);
}

/**
 * Hashes computed in bulk are kept as 'binary' (latin1) strings, one character per byte. Asking
 * node:crypto for a Buffer costs a native allocation that takes longer than SHA-256 itself; a
 * string is cheap to produce and to copy back, which halves the time to hash a large tree.
 */
type Bytes = string;

function toBytes(h: Uint8Array): Bytes {
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('binary');
}

function fromBytes(b: Bytes): Hash {
  return Buffer.from(b, 'binary');
}

function join(left: Bytes, right: Bytes): Bytes {
  nodeInput.write(left, 1, 'binary');
  nodeInput.write(right, 1 + HASH_SIZE, 'binary');
  return hash('sha256', nodeInput, 'binary');
}

function joinBytes(left: Uint8Array, right: Uint8Array): Bytes {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeInput, 'binary');
}

/** Combines perfect-subtree roots, largest first, into the root of the whole range. */
function foldRight(nodes: readonly Bytes[]): Hash | undefined {
  let r = nodes.at(-1);
  for (let i = nodes.length - 2; i >= 0; i--) r = join(nodes[i] as Bytes, r as Bytes);
  return r === undefined ? undefined : fromBytes(r);
}

function requireLeafHashes(leaves: readonly Uint8Array[]): void {
  if (!isHashList(leaves)) throw new MerkleError('leaves must be an array of 32-byte leaf hashes');
}

// Sizes go up to 2^53, beyond the 32 bits JavaScript's bitwise operators work on.
function isOdd(x: number): boolean {
  return x % 2 === 1;
}

function half(x: number): number {
  return Math.floor(x / 2);
}

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && !isOdd(x)) x = half(x);
  return x === 1;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function bitCount(x: number): number {
  let count = 0;
  for (; x > 0; x = half(x)) if (isOdd(x)) count++;
  return count;
}

function isSize(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === HASH_SIZE;
}

function isHashList(x: unknown): x is readonly Uint8Array[] {
  return Array.isArray(x) && x.every(isHash);
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

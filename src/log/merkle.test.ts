import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  leafHashOfText,
  MerkleError,
  MerkleFrontier,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const hexes = (hashes: readonly Uint8Array[]): string[] => hashes.map((h) => Buffer.from(h).toString('hex'));

/*
 * Known answers published with the RFC 6962 reference implementations:
 *   transparency-dev/merkle testonly/constants.go   (LeafInputs, NodeHashes, RootHashes, CompactTrees)
 *   transparency-dev/merkle proof/verify_test.go    (inclusionProofs, consistencyProofs, roots)
 *   google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
 *                                                   (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs)
 * Both repositories list the same values; verify_test.go adds the 6 -> 7 consistency proof.
 */
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);

const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** NodeHashes()[level][index]: every complete subtree of the 8-leaf tree. */
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const nh = (level: number, index: number): string => NODE_HASHES[level]?.[index] as string;

/** RootHashes()[size] for sizes 0..8. */
const ROOTS = [
  EMPTY_ROOT,
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** CompactTrees(): the right-edge subtree roots for sizes 0..8. */
const COMPACT_TREES = [
  [],
  [nh(0, 0)],
  [nh(1, 0)],
  [nh(1, 0), nh(0, 2)],
  [nh(2, 0)],
  [nh(2, 0), nh(0, 4)],
  [nh(2, 0), nh(1, 2)],
  [nh(2, 0), nh(1, 2), nh(0, 6)],
  [nh(3, 0)],
];

// verify_test.go numbers leaves from 1 (it verifies leaf p.leaf - 1); these are 0-based indexes.
const INCLUSION_PROOFS = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const CONSISTENCY_PROOFS = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const VECTOR_LEAVES = LEAF_INPUTS.map((input) => leafHash(input));
const SOME_HASH = hex('abacaba000000000000000000000000000000000000000000060061e00123456'); // verify_test.go sha256SomeHash

function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  const at = (bit >> 3) % copy.length;
  copy.writeUInt8(copy.readUInt8(at) ^ (1 << (bit & 7)), at);
  return copy;
}

/** Distinct leaves: with repeats, H(x, x) makes some reorderings indistinguishable. */
function makeLeaves(size: number, seed = 0): Hash[] {
  return Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${seed}/${i}`)));
}

/** The reference implementations' corruption probes (verify_test.go corruptInclusionProof). */
function corruptedInclusionProbes(index: number, size: number, proof: Buffer[], root: Buffer, leaf: Buffer) {
  const probes: { what: string; args: Parameters<typeof verifyInclusion> }[] = [
    { what: 'index - 1', args: [leaf, index - 1, size, proof, root] },
    { what: 'index + 1', args: [leaf, index + 1, size, proof, root] },
    { what: 'index ^ 2', args: [leaf, index ^ 2, size, proof, root] },
    { what: 'size * 2', args: [leaf, index, size * 2, proof, root] },
    { what: 'size / 2', args: [leaf, index, Math.floor(size / 2), proof, root] },
    { what: 'wrong leaf', args: [flipBit(leaf, 0), index, size, proof, root] },
    { what: 'empty root', args: [leaf, index, size, proof, hex(EMPTY_ROOT)] },
    { what: 'random root', args: [leaf, index, size, proof, SOME_HASH] },
    { what: 'trailing root', args: [leaf, index, size, [...proof, root], root] },
    { what: 'preceding root', args: [leaf, index, size, [root, ...proof], root] },
    ...proof.map((_, i) => ({
      what: `proof[${i}] bit 3 flipped`,
      args: [leaf, index, size, proof.map((p, j) => (j === i ? flipBit(p, 3) : p)), root] as Parameters<typeof verifyInclusion>,
    })),
  ];
  if (proof.length > 0) probes.push({ what: 'removed component', args: [leaf, index, size, proof.slice(0, -1), root] });
  if (proof.length > 1) probes.push({ what: 'inserted component', args: [leaf, index, size, [proof[0] as Buffer, SOME_HASH, ...proof.slice(1)], root] });
  return probes;
}

/** verify_test.go corruptConsistencyProof, for proofs that are not empty. */
function corruptedConsistencyProbes(size1: number, size2: number, root1: Buffer, root2: Buffer, proof: Buffer[]) {
  const probes: { what: string; args: Parameters<typeof verifyConsistency> }[] = [
    { what: 'size1 - 1', args: [size1 - 1, size2, root1, root2, proof] },
    { what: 'size1 + 1', args: [size1 + 1, size2, root1, root2, proof] },
    { what: 'size1 ^ 2', args: [size1 ^ 2, size2, root1, root2, proof] },
    { what: 'size2 * 2', args: [size1, size2 * 2, root1, root2, proof] },
    { what: 'size2 / 2', args: [size1, Math.floor(size2 / 2), root1, root2, proof] },
    { what: 'wrong root1', args: [size1, size2, flipBit(root1, 5), root2, proof] },
    { what: 'wrong root2', args: [size1, size2, root1, flipBit(root2, 5), proof] },
    { what: 'swapped roots', args: [size1, size2, root2, root1, proof] },
    { what: 'empty proof', args: [size1, size2, root1, root2, []] },
    { what: 'trailing root1', args: [size1, size2, root1, root2, [...proof, root1]] },
    { what: 'trailing root2', args: [size1, size2, root1, root2, [...proof, root2]] },
    { what: 'preceding root1', args: [size1, size2, root1, root2, [root1, ...proof]] },
    { what: 'preceding root2', args: [size1, size2, root1, root2, [root2, ...proof]] },
    { what: 'preceding proof[0]', args: [size1, size2, root1, root2, [proof[0] as Buffer, ...proof]] },
    { what: 'truncated proof', args: [size1, size2, root1, root2, proof.slice(0, -1)] },
    ...proof.map((_, i) => ({
      what: `proof[${i}] bit 4 flipped`,
      args: [size1, size2, root1, root2, proof.map((p, j) => (j === i ? flipBit(p, 4) : p))] as Parameters<typeof verifyConsistency>,
    })),
  ];
  return probes;
}

function acceptedProbes(probes: { what: string; args: unknown[] }[], verify: (...args: never[]) => boolean): string[] {
  return probes.filter((p) => (verify as (...args: unknown[]) => boolean)(...p.args)).map((p) => p.what);
}

// The recursive definitions of RFC 9162 section 2.1, transcribed literally, to check the
// iterative implementation against.
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function referenceMth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return emptyRoot();
  if (d.length === 1) return d[0] as Buffer;
  const k = largestPowerOfTwoBelow(d.length);
  return nodeHash(referenceMth(d.slice(0, k)), referenceMth(d.slice(k)));
}
function referencePath(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  return m < k ? [...referencePath(m, d.slice(0, k)), referenceMth(d.slice(k))] : [...referencePath(m - k, d.slice(k)), referenceMth(d.slice(0, k))];
}
function referenceSubproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [referenceMth(d)];
  const k = largestPowerOfTwoBelow(d.length);
  return m <= k
    ? [...referenceSubproof(m, d.slice(0, k), b), referenceMth(d.slice(k))]
    : [...referenceSubproof(m - k, d.slice(k), false), referenceMth(d.slice(0, k))];
}

describe('RFC 9162 tree hashing, against the published test vectors', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(emptyRoot().toString('hex')).toBe(EMPTY_ROOT);
    expect(rootOf([]).toString('hex')).toBe(EMPTY_ROOT);
    expect(new MerkleFrontier().root().toString('hex')).toBe(EMPTY_ROOT);
  });

  it('hashes leaves as SHA-256(0x00 || data) and nodes as SHA-256(0x01 || left || right)', () => {
    expect(hexes(VECTOR_LEAVES)).toEqual(NODE_HASHES[0]);
    for (let level = 1; level < NODE_HASHES.length; level++) {
      NODE_HASHES[level]?.forEach((expected, i) => {
        expect(nodeHash(hex(nh(level - 1, 2 * i)), hex(nh(level - 1, 2 * i + 1))).toString('hex')).toBe(expected);
      });
    }
  });

  it('computes the root of every prefix of the 8-leaf tree', () => {
    for (let size = 0; size <= 8; size++) expect(rootOf(VECTOR_LEAVES.slice(0, size)).toString('hex'), `size ${size}`).toBe(ROOTS[size]);
  });

  it('keeps exactly the compact range of the reference implementation on the right edge', () => {
    const frontier = new MerkleFrontier();
    expect(frontier.toJSON().hashes).toEqual([]);
    VECTOR_LEAVES.forEach((leaf, i) => {
      frontier.append(leaf);
      expect(frontier.size).toBe(i + 1);
      expect(frontier.root().toString('hex')).toBe(ROOTS[i + 1]);
      expect(frontier.toJSON().hashes.map((b) => Buffer.from(b, 'base64').toString('hex'))).toEqual(COMPACT_TREES[i + 1]);
    });
  });
});

describe('inclusion proofs, against the published test vectors', () => {
  it.each(INCLUSION_PROOFS)('leaf $index of a tree of size $size', ({ index, size, proof }) => {
    const leaves = VECTOR_LEAVES.slice(0, size);
    expect(hexes(inclusionProof(index, leaves))).toEqual(proof);
    const root = hex(ROOTS[size] as string);
    const path = proof.map(hex);
    const leaf = VECTOR_LEAVES[index] as Buffer;
    expect(verifyInclusion(leaf, index, size, path, root)).toBe(true);
    expect(acceptedProbes(corruptedInclusionProbes(index, size, path, root, leaf), verifyInclusion)).toEqual([]);
  });

  it('rejects the invalid sizes of the reference tests (TestVerifyInclusion)', () => {
    const empty = hex(EMPTY_ROOT);
    for (const [index, size] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 1],
    ] as const) {
      expect(verifyInclusion(SOME_HASH, index, size, [], empty)).toBe(false);
    }
  });

  it('proves a single-leaf tree with an empty path: the root is the leaf hash', () => {
    const leaf = leafHash(Buffer.from('data'));
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 0, 1, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], leaf)).toBe(false);
  });
});

describe('consistency proofs, against the published test vectors', () => {
  it.each(CONSISTENCY_PROOFS)('from size $size1 to size $size2', ({ size1, size2, proof }) => {
    expect(hexes(consistencyProof(size1, VECTOR_LEAVES.slice(0, size2)))).toEqual(proof);
    const root1 = hex(ROOTS[size1] as string);
    const root2 = hex(ROOTS[size2] as string);
    const path = proof.map(hex);
    expect(verifyConsistency(size1, size2, root1, root2, path)).toBe(true);
    if (path.length > 0) expect(acceptedProbes(corruptedConsistencyProbes(size1, size2, root1, root2, path), verifyConsistency)).toEqual([]);
  });

  it('follows the reference table of trivial cases (TestVerifyConsistency), with 32-byte roots', () => {
    const [r1, r2] = makeLeaves(2);
    const empty = hex(EMPTY_ROOT);
    const cases: [number, number, Buffer, Buffer, Buffer[], boolean][] = [
      [1, 1, r1 as Buffer, r2 as Buffer, [], false],
      [1, 1, r2 as Buffer, r2 as Buffer, [], true],
      [1, 0, r1 as Buffer, r2 as Buffer, [], false], // time travel to the past
      [2, 1, r1 as Buffer, r2 as Buffer, [], false],
      [1, 2, r1 as Buffer, r2 as Buffer, [], false], // empty proof
      [0, 0, empty, r2 as Buffer, [], false],
      [1, 1, empty, r2 as Buffer, [], false],
      [0, 0, empty, empty, [empty], false], // roots match but the proof is not empty
      [0, 1, empty, empty, [empty], false],
      [1, 1, empty, empty, [empty], false],
      [0, 0, empty, empty, [], true],
      [0, 1, empty, r2 as Buffer, [], true],
    ];
    for (const [size1, size2, root1, root2, proof, expected] of cases) {
      expect(verifyConsistency(size1, size2, root1, root2, proof), `${size1} -> ${size2}`).toBe(expected);
    }
  });

  it('is stricter than the reference code about the empty tree: its root must be the empty root', () => {
    // The Go and C++ verifiers accept any root1 for size 0; a size-0 checkpoint with another
    // root is not a checkpoint of this tree, so it is refused here.
    const [r1, r2] = makeLeaves(2);
    expect(verifyConsistency(0, 1, r1 as Buffer, r2 as Buffer, [])).toBe(false);
    expect(verifyConsistency(0, 0, r1 as Buffer, r1 as Buffer, [])).toBe(false);
  });
});

describe('the RFC 9162 section 2.1.5 example tree of 7 leaves', () => {
  const [d0, d1, d2, d3, d4, d5, d6] = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6'].map((d) => leafHash(Buffer.from(d))) as [
    Hash,
    Hash,
    Hash,
    Hash,
    Hash,
    Hash,
    Hash,
  ];
  const leaves = [d0, d1, d2, d3, d4, d5, d6];
  // Named as in the RFC's figure: a..f are the leaves d0..d5, j is the lone leaf d6.
  const [a, b, c, d, e, f, j] = leaves as [Hash, Hash, Hash, Hash, Hash, Hash, Hash];
  const g = nodeHash(a, b);
  const h = nodeHash(c, d);
  const i = nodeHash(e, f);
  const k = nodeHash(g, h);
  const l = nodeHash(i, j);
  const hash = nodeHash(k, l);
  const hash0 = nodeHash(g, c);
  const hash1 = k;
  const hash2 = nodeHash(k, i);

  it('has the root the figure draws', () => {
    expect(rootOf(leaves).equals(hash)).toBe(true);
    expect(rootOf(leaves.slice(0, 3)).equals(hash0)).toBe(true);
    expect(rootOf(leaves.slice(0, 4)).equals(hash1)).toBe(true);
    expect(rootOf(leaves.slice(0, 6)).equals(hash2)).toBe(true);
  });

  it.each([
    ['d0', 0, [b, h, l]],
    ['d3', 3, [c, g, l]],
    ['d4', 4, [f, j, k]],
    ['d6', 6, [i, k]],
  ] as const)('gives the inclusion proof the RFC lists for %s', (_name, index, expected) => {
    expect(hexes(inclusionProof(index, leaves))).toEqual(hexes(expected));
    expect(verifyInclusion(leaves[index] as Hash, index, 7, [...expected], hash)).toBe(true);
  });

  it.each([
    ['hash0', 3, hash0, [c, d, g, l]],
    ['hash1', 4, hash1, [l]],
    ['hash2', 6, hash2, [i, j, k]],
  ] as const)('gives the consistency proof the RFC lists between %s (size %i) and hash', (_name, size1, root1, expected) => {
    expect(hexes(consistencyProof(size1, leaves))).toEqual(hexes(expected));
    expect(verifyConsistency(size1, 7, root1, hash, [...expected])).toBe(true);
  });
});

describe('every tree up to 64 leaves', () => {
  it('matches the recursive definitions of the RFC, and every proof verifies', () => {
    const all = makeLeaves(64);
    for (let n = 1; n <= 64; n++) {
      const leaves = all.slice(0, n);
      const root = rootOf(leaves);
      expect(root.equals(referenceMth(leaves))).toBe(true);
      for (let index = 0; index < n; index++) {
        const proof = inclusionProof(index, leaves);
        expect(hexes(proof)).toEqual(hexes(referencePath(index, leaves)));
        expect(verifyInclusion(leaves[index] as Hash, index, n, proof, root)).toBe(true);
      }
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(m, leaves);
        if (m > 0) expect(hexes(proof)).toEqual(hexes(referenceSubproof(m, leaves, true)));
        expect(verifyConsistency(m, n, rootOf(leaves.slice(0, m)), root, proof), `${m} -> ${n}`).toBe(true);
      }
    }
  });

  it('notes that a root does not commit to its size: the signed checkpoint must', () => {
    // Leaf 0 has the same audit path in trees of 5 to 8 leaves, so a proof for size 5 also
    // "verifies" as size 6; only the size in a signed checkpoint pins it down.
    const leaves = makeLeaves(5);
    const proof = inclusionProof(0, leaves);
    expect(verifyInclusion(leaves[0] as Hash, 0, 6, proof, rootOf(leaves))).toBe(true);
  });
});

const randomTree = fc.record({ size: fc.integer({ min: 1, max: 300 }), seed: fc.nat() }).map(({ size, seed }) => makeLeaves(size, seed));

describe('properties over random trees of 1 to 300 leaves', () => {
  it('every inclusion proof matches the RFC definition and verifies', () => {
    fc.assert(
      fc.property(randomTree, (leaves) => {
        const root = rootOf(leaves);
        expect(root.equals(referenceMth(leaves))).toBe(true);
        leaves.forEach((leaf, index) => {
          expect(verifyInclusion(leaf, index, leaves.length, inclusionProof(index, leaves), root)).toBe(true);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('every consistency proof from every older size verifies', () => {
    fc.assert(
      fc.property(randomTree, (leaves) => {
        const root = rootOf(leaves);
        const frontier = new MerkleFrontier();
        for (let m = 0; m <= leaves.length; m++) {
          expect(verifyConsistency(m, leaves.length, frontier.root(), root, consistencyProof(m, leaves)), `${m} -> ${leaves.length}`).toBe(true);
          if (m < leaves.length) frontier.append(leaves[m] as Hash);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('any change to an inclusion proof, the index, the size, the root or the leaf is caught', () => {
    fc.assert(
      fc.property(randomTree, fc.nat(), fc.nat(255), (leaves, pick, bit) => {
        const index = pick % leaves.length;
        const root = rootOf(leaves);
        const proof = inclusionProof(index, leaves);
        const leaf = leaves[index] as Buffer;
        const probes = corruptedInclusionProbes(index, leaves.length, proof, root, leaf);
        probes.push({ what: `root bit ${bit}`, args: [leaf, index, leaves.length, proof, flipBit(root, bit)] });
        probes.push({ what: `leaf bit ${bit}`, args: [flipBit(leaf, bit), index, leaves.length, proof, root] });
        probes.push(
          ...proof.map((_, i) => ({
            what: `proof[${i}] bit ${bit}`,
            args: [leaf, index, leaves.length, proof.map((p, j) => (j === i ? flipBit(p, bit) : p)), root] as Parameters<typeof verifyInclusion>,
          })),
        );
        expect(acceptedProbes(probes, verifyInclusion)).toEqual([]);
      }),
    );
  });

  it('any change to a consistency proof, either size or either root is caught', () => {
    fc.assert(
      fc.property(
        randomTree.filter((leaves) => leaves.length > 1),
        fc.nat(),
        fc.nat(255),
        (leaves, pick, bit) => {
          const size1 = 1 + (pick % (leaves.length - 1));
          const root1 = rootOf(leaves.slice(0, size1));
          const root2 = rootOf(leaves);
          const proof = consistencyProof(size1, leaves);
          const probes = corruptedConsistencyProbes(size1, leaves.length, root1, root2, proof);
          probes.push({ what: `root1 bit ${bit}`, args: [size1, leaves.length, flipBit(root1, bit), root2, proof] });
          probes.push({ what: `root2 bit ${bit}`, args: [size1, leaves.length, root1, flipBit(root2, bit), proof] });
          probes.push(
            ...proof.map((_, i) => ({
              what: `proof[${i}] bit ${bit}`,
              args: [size1, leaves.length, root1, root2, proof.map((p, j) => (j === i ? flipBit(p, bit) : p))] as Parameters<typeof verifyConsistency>,
            })),
          );
          expect(acceptedProbes(probes, verifyConsistency)).toEqual([]);
        },
      ),
    );
  });

  it('verification returns false, never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (a, b, c, d, e) => {
        expect((verifyInclusion as (...args: unknown[]) => boolean)(a, b, c, d, e)).toBe(false);
        expect((verifyConsistency as (...args: unknown[]) => boolean)(a, b, c, d, e)).toBe(false);
      }),
    );
    const leaves = makeLeaves(5);
    const root = rootOf(leaves);
    const proof = inclusionProof(2, leaves);
    for (const bad of [NaN, -1, 1.5, Infinity, 2 ** 53]) {
      expect(verifyInclusion(leaves[2] as Hash, bad, 5, proof, root)).toBe(false);
      expect(verifyInclusion(leaves[2] as Hash, 2, bad, proof, root)).toBe(false);
      expect(verifyConsistency(bad, 5, root, root, [])).toBe(false);
    }
    expect(verifyInclusion(leaves[2] as Hash, 5, 5, proof, root)).toBe(false);
    expect(verifyInclusion(leaves[2] as Hash, 2, 5, [...proof.slice(0, -1), Buffer.alloc(31)], root)).toBe(false);
    expect(verifyInclusion(leaves[2] as Hash, 2, 5, proof, root.subarray(1))).toBe(false);
  });

  it('the frontier has the root of rootOf after every append', () => {
    fc.assert(
      fc.property(randomTree, (leaves) => {
        const frontier = new MerkleFrontier();
        leaves.forEach((leaf, i) => {
          frontier.append(leaf);
          expect(frontier.size).toBe(i + 1);
          expect(frontier.root().equals(rootOf(leaves.slice(0, i + 1)))).toBe(true);
        });
      }),
      { numRuns: 30 },
    );
  });

  it('the frontier survives a JSON round trip and keeps growing the same tree', () => {
    fc.assert(
      fc.property(randomTree, fc.nat(), (leaves, pick) => {
        const cut = pick % (leaves.length + 1);
        const frontier = new MerkleFrontier();
        leaves.slice(0, cut).forEach((leaf) => frontier.append(leaf));
        const restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(frontier)));
        expect(restored.toJSON()).toEqual(frontier.toJSON());
        leaves.slice(cut).forEach((leaf) => restored.append(leaf));
        expect(restored.size).toBe(leaves.length);
        expect(restored.root().equals(rootOf(leaves))).toBe(true);
      }),
    );
  });
});

describe('MerkleFrontier', () => {
  it('clones independently', () => {
    const [x, y] = makeLeaves(2) as [Hash, Hash];
    const original = new MerkleFrontier();
    original.append(x);
    const copy = original.clone();
    copy.append(y);
    expect(original.size).toBe(1);
    expect(original.root().equals(x)).toBe(true);
    expect(copy.root().equals(nodeHash(x, y))).toBe(true);
  });

  it('is not affected by later changes to a leaf buffer or a returned root', () => {
    const leaf = leafHash(Buffer.from('x'));
    const frontier = new MerkleFrontier();
    frontier.append(leaf);
    const expected = Buffer.from(leaf);
    leaf.fill(0);
    frontier.root().fill(0);
    expect(frontier.root().equals(expected)).toBe(true);
  });

  it.each([
    ['no object', null, /size must be/],
    ['a negative size', { size: -1, hashes: [] }, /size must be/],
    ['a fractional size', { size: 1.5, hashes: [] }, /size must be/],
    ['too few hashes', { size: 3, hashes: [Buffer.alloc(32).toString('base64')] }, /size 3 needs 2 hashes, got 1/],
    ['hashes of the wrong length', { size: 1, hashes: [Buffer.alloc(31).toString('base64')] }, /frontier hash 0: 31 bytes long, not 32/],
    ['non-canonical base64', { size: 1, hashes: ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB='] }, /frontier hash 0: not canonical/],
  ])('refuses JSON with %s', (_what, json, message) => {
    expect(() => MerkleFrontier.fromJSON(json)).toThrow(MerkleError);
    expect(() => MerkleFrontier.fromJSON(json)).toThrow(message);
  });

  it('refuses anything but a 32-byte leaf hash', () => {
    expect(() => new MerkleFrontier().append(Buffer.alloc(31))).toThrow(MerkleError);
  });
});

describe('misuse of proof generation', () => {
  const leaves = makeLeaves(4);

  it.each([-1, 4, 1.5, NaN])('refuses inclusion proof index %s for a tree of 4', (index) => {
    expect(() => inclusionProof(index, leaves)).toThrow(MerkleError);
  });

  it.each([-1, 5, 0.5])('refuses consistency proof from size %s for a tree of 4', (oldSize) => {
    expect(() => consistencyProof(oldSize, leaves)).toThrow(MerkleError);
  });

  it('refuses leaves that are not 32-byte hashes', () => {
    expect(() => rootOf([Buffer.from('not a hash')])).toThrow(/32-byte leaf hashes/);
    expect(() => inclusionProof(0, [Buffer.alloc(33)])).toThrow(MerkleError);
  });

  it('gives empty consistency proofs from size 0 and from the full size', () => {
    expect(consistencyProof(0, leaves)).toEqual([]);
    expect(consistencyProof(4, leaves)).toEqual([]);
  });
});

describe('leafHashOfText', () => {
  it("equals leafHash of the text's UTF-8 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(leafHashOfText(text)).toEqual(leafHash(Buffer.from(text, 'utf8')));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { leafHash } from './merkle.js';
import { openBatchSeal, sealedPrefix, signBatchSeal, type StoredSeal } from './batch-seal.js';
import { generateSignerKey, NoteSigner, openCheckpoint } from './checkpoint.js';

const ORIGIN = 'example.com/log';
const signer = new NoteSigner(generateSignerKey(ORIGIN));
const key = { verifierKey: signer.verifierKey, origin: ORIGIN };
const leaves = Array.from({ length: 10 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
const seal = (first: number, count: number, by = signer): StoredSeal => ({ first, note: signBatchSeal(by, ORIGIN, first, leaves.slice(first, first + count)) });

describe('batch seals', () => {
  it('state the first index, the count and the digest of the leaves, signed with the log key', () => {
    expect(openBatchSeal(seal(3, 4).note, signer.verifierKey, ORIGIN)).toMatchObject({ first: 3, count: 4 });
    expect(seal(3, 4).note.split('\n').slice(0, 2)).toEqual([ORIGIN, 'llm-ledger-batch 3 4']);
  });

  it('cannot be taken for a checkpoint, nor a checkpoint for a seal', () => {
    expect(() => openCheckpoint(seal(0, 2).note, signer.verifierKey, ORIGIN)).toThrow(/tree size/);
    const checkpoint = signer.sign({ origin: ORIGIN, size: 2, root: leaves[0]! });
    expect(() => openBatchSeal(checkpoint, signer.verifierKey, ORIGIN)).toThrow(/not a batch seal/);
  });

  it('cover the leaves they signed, in order, with nothing skipped', () => {
    expect(sealedPrefix([seal(0, 3), seal(3, 5), seal(8, 2)], 0, leaves, key)).toEqual({ end: 10 });
    expect(sealedPrefix([seal(3, 5), seal(8, 2)], 3, leaves.slice(3), key)).toEqual({ end: 10 });
  });

  it.each([
    ['a gap', [seal(0, 3), seal(4, 6)], 3, /no batch seal covers the record at index 3/],
    ['no seal at all', [], 0, /no batch seal covers the record at index 0/],
    ['a seal by another key', [seal(0, 3), seal(3, 7, new NoteSigner(generateSignerKey(ORIGIN)))], 3, /the batch seal at index 3 is not valid/],
    ['a seal stored at another index', [seal(0, 3), { first: 3, note: seal(4, 6).note }], 3, /the batch seal stored at index 3 is for index 4/],
    [
      'leaves that differ from the sealed ones',
      [seal(0, 3), { first: 3, note: signBatchSeal(signer, ORIGIN, 3, [...leaves.slice(4, 10), leaves[0]!]) }],
      3,
      /the records at index 3\.\.9 differ from the batch their seal signed/,
    ],
  ])('stop at %s, and say why', (_what, seals, end, problem) => {
    const result = sealedPrefix(seals, 0, leaves, key);
    expect(result.end).toBe(end);
    expect(result.problem).toMatch(problem);
  });

  it('tell a gap (rows no seal covers) from a seal that does not hold', () => {
    expect(sealedPrefix([seal(0, 3), seal(4, 6)], 0, leaves, key).gap).toBe(true);
    expect(sealedPrefix([seal(0, 3), seal(3, 7, new NoteSigner(generateSignerKey(ORIGIN)))], 0, leaves, key).gap).toBeUndefined();
  });

  it('ask for more leaves when a batch is not wholly among those given', () => {
    expect(sealedPrefix([seal(0, 3), seal(3, 7)], 0, leaves.slice(0, 5), key)).toEqual({ end: 3, needsLeavesTo: 10 });
  });
});

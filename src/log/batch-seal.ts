import { sha256 } from '../crypto/sha256.js';
import { CheckpointError, openSignedStatement, type NoteSigner } from './checkpoint.js';

/**
 * A batch seal: the statement, signed with the log's checkpoint key, that a writer of this log
 * stored these leaves at these indexes. PostgreSQL versions before signed heads (schema 6), where
 * many processes appended and one elected integrator signed the checkpoints later, committed one
 * with every batch. None is written any more (every batch now commits the log's signed head); the
 * seals of such a database are read only, so that `verify` still holds the records no checkpoint
 * covered against them. Its body cannot be read as a checkpoint (its second line is not a tree
 * size), nor a checkpoint as a seal:
 *
 *   <origin>
 *   llm-ledger-batch <first index> <count>
 *   <base64 SHA-256 of the batch's leaf hashes, one after another>
 */
export interface BatchSeal {
  first: number;
  count: number;
  /** SHA-256 over the batch's 32-byte leaf hashes in index order. */
  digest: Buffer;
}

const BATCH_LINE = /^llm-ledger-batch (0|[1-9][0-9]*) ([1-9][0-9]*)$/;

export function leavesDigest(leaves: readonly Uint8Array[]): Buffer {
  return sha256(Buffer.concat(leaves));
}

/** How versions before signed heads sealed a batch; now only tests use it, to write such a database. */
export function signBatchSeal(signer: NoteSigner, origin: string, first: number, leaves: readonly Uint8Array[]): string {
  return signer.signStatement(`${origin}\nllm-ledger-batch ${first} ${leaves.length}\n${leavesDigest(leaves).toString('base64')}\n`);
}

/** The seal's statement once its signature by `verifierKey` and its form check out; a CheckpointError otherwise. */
export function openBatchSeal(note: string, verifierKey: string, origin: string): BatchSeal {
  const lines = openSignedStatement(note, verifierKey).slice(0, -1).split('\n');
  const batch = lines.length === 3 ? BATCH_LINE.exec(lines[1]!) : null;
  if (!batch || lines[0] !== origin) throw new CheckpointError(`not a batch seal of ${JSON.stringify(origin)}`);
  const digest = Buffer.from(lines[2]!, 'base64');
  if (digest.length !== 32 || digest.toString('base64') !== lines[2]) throw new CheckpointError('a batch seal digest must be 32 bytes in padded base64');
  const [first, count] = [Number(batch[1]), Number(batch[2])];
  if (!Number.isSafeInteger(first + count)) throw new CheckpointError('a batch seal names indexes beyond what this implementation supports');
  return { first, count, digest };
}

/** A seal as a store keeps it: the first index it covers, and the signed note. */
export interface StoredSeal {
  first: number;
  note: string;
}

/**
 * How far from `from` the seals cover the leaves given (`leaves[i]` is index `from + i`): every
 * index once, in order, each seal valid and matching its leaves. Returns the end of that sealed
 * prefix and, where it stops short of the leaves, why, or up to which index leaves are needed
 * to check the next seal.
 */
export function sealedPrefix(
  seals: readonly StoredSeal[],
  from: number,
  leaves: readonly Uint8Array[],
  key: { verifierKey: string; origin: string },
): { end: number; problem?: string; gap?: true; needsLeavesTo?: number } {
  let end = from;
  const to = from + leaves.length;
  for (const stored of seals) {
    if (stored.first < end) continue;
    if (stored.first > end || end >= to) break;
    let seal: BatchSeal;
    try {
      seal = openBatchSeal(stored.note, key.verifierKey, key.origin);
    } catch (err) {
      return { end, problem: `the batch seal at index ${end} is not valid: ${(err as Error).message}` };
    }
    if (seal.first !== stored.first) return { end, problem: `the batch seal stored at index ${stored.first} is for index ${seal.first}` };
    // A batch not wholly among the leaves given (the caller reads them in chunks): it needs more.
    if (seal.first + seal.count > to) return { end, needsLeavesTo: seal.first + seal.count };
    if (!leavesDigest(leaves.slice(end - from, end - from + seal.count)).equals(seal.digest)) {
      return { end, problem: `the records at index ${end}..${end + seal.count - 1} differ from the batch their seal signed` };
    }
    end += seal.count;
  }
  return end < to && seals.every((s) => s.first !== end) ? { end, gap: true, problem: `no batch seal covers the record at index ${end}` } : { end };
}

import { sealedPrefix, signBatchSeal } from '../log/batch-seal.js';
import { openCheckpoint, type NoteSigner } from '../log/checkpoint.js';
import type { Store } from '../store/store.js';
import { LedgerIntegrityError } from './errors.js';
import type { NumberingStore } from './writer.js';

/** Indexes [from, to) of records that no signed note covered. */
export interface IndexRange {
  from: number;
  to: number;
}

/**
 * Many writers (PostgreSQL), as an operator decided with `llm-ledger repair --accept-unsealed`:
 * seals, with this ledger's key, every run of records beyond the newest checkpoint that no batch
 * seal covers, so the integrator takes them in. Only gaps are sealed: a seal that does not hold
 * (another key, other leaves) is tampering with a batch a writer did seal, and is refused.
 */
export async function sealGaps(store: Store & NumberingStore, signer: NoteSigner, origin: string): Promise<IndexRange[]> {
  const newest = (await store.checkpoints()).at(-1);
  const from = newest ? openCheckpoint(newest.note, signer.verifierKey, origin).size : 0;
  const size = await store.size();
  const leaves = await store.leafHashes(from, size);
  const seals = (await store.batchSeals?.(from)) ?? [];
  const gaps: IndexRange[] = [];
  for (let at = from; at < size; ) {
    const sealed = sealedPrefix(seals, at, leaves.slice(at - from), { verifierKey: signer.verifierKey, origin });
    at = sealed.end;
    if (at >= size || sealed.needsLeavesTo !== undefined) break;
    if (!sealed.gap) throw new LedgerIntegrityError(`${store.location}: ${sealed.problem ?? 'a batch seal does not hold'}; repair accepts only records no seal covers (see "Recovery" in docs/threat-model.md)`);
    const to = seals.find((s) => s.first > at)?.first ?? size;
    await store.addBatchSeal(at, signBatchSeal(signer, origin, at, leaves.slice(at - from, to - from)));
    gaps.push({ from: at, to });
    at = to;
  }
  return gaps;
}

import type { Anchor } from '../log/anchor.js';
import { openCheckpoint, type Checkpoint } from '../log/checkpoint.js';
import { MerkleFrontier } from '../log/merkle.js';
import { LEAF_DIFFERS, LEAF_NOT_COMMITTED } from '../store/leaf-scan.js';
import type { Store, StoredCheckpoint } from '../store/store.js';

export type ProblemKind = 'missing' | 'misplaced' | 'changed' | 'root-mismatch' | 'truncated' | 'bad-checkpoint' | 'fork';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The first log index the problem concerns; absent for a checkpoint that names no record. */
  index?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Records found in the store. */
  size: number;
  /** Lowest index at which the log is known to differ from what was committed. */
  firstBadIndex: number | null;
  problems: VerifyProblem[];
  warnings: string[];
  checkpointsChecked: number;
  anchoredCheckpointsChecked: number;
  anchor: string | null;
  /** Size of the newest checkpoint that matched the recomputed tree. */
  verifiedSize: number;
}

export interface VerifyOptions {
  origin: string;
  verifierKey: string;
  anchor?: Anchor;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Records below this index were pruned by retention, as the log's own `retention` records
   * state: they are taken as their committed leaf hashes instead of being reported missing.
   */
  prunedBelow?: number;
}

/** Problems of one kind beyond this many are counted, not listed: a wiped log must not flood memory. */
const MAX_LISTED_PER_KIND = 20;

interface KnownRoot {
  checkpoint: Checkpoint;
  source: string;
}

/**
 * Recomputes the tree from the stored bytes and holds it against every signed checkpoint, in
 * the store and at the anchor. Stored leaf hashes (kept apart from the rows) pin down which
 * record changed; checkpoints catch whatever rewrote both, and the anchor catches truncation.
 */
export async function verifyLog(store: Store, options: VerifyOptions): Promise<VerifyReport> {
  const problems = new ProblemList();
  const warnings: string[] = [];
  const stored = await store.checkpoints();
  const anchored = options.anchor ? options.anchor.read() : [];
  if (!options.anchor) {
    warnings.push(
      'No anchor is configured (log.anchor.path): truncation or rollback of the newest records cannot be detected. Configure an anchor outside the database.',
    );
  }
  const roots = collectRoots(stored, 'store', anchored, options, problems);
  const sizes = [...roots.keys()].sort((a, b) => a - b);

  const total = await store.size();
  const tree = new MerkleFrontier();
  let position = 0;
  let expectedIndex = 0;
  let nextCheck = 0;
  let verifiedSize = 0;
  let diverged = false;
  // The first row-level problem since the last matching checkpoint: it explains a root mismatch exactly.
  let firstPreciseSinceVerified: number | undefined;
  const precise = (kind: ProblemKind, index: number, message: string) => {
    firstPreciseSinceVerified ??= index;
    problems.add(kind, index, message);
  };
  const batchSize = options.batchSize ?? 10_000;
  const horizon = options.prunedBelow ?? 0;
  // Adds one leaf to the recomputed tree, and holds the tree against every checkpoint of its new size.
  const appendLeaf = (leaf: Uint8Array) => {
    tree.append(leaf);
    position++;
    for (; nextCheck < sizes.length && sizes[nextCheck] === tree.size; nextCheck++) {
      const known = roots.get(tree.size)!;
      const root = tree.root();
      const mismatch = known.filter((k) => !k.checkpoint.root.equals(root));
      if (mismatch.length === 0 && !diverged) {
        verifiedSize = tree.size;
        firstPreciseSinceVerified = undefined;
      } else if (mismatch.length > 0) {
        diverged = true;
        problems.add(
          'root-mismatch',
          firstPreciseSinceVerified ?? verifiedSize,
          `the tree of size ${tree.size} does not match its signed checkpoint (${mismatch.map((m) => m.source).join(', ')}); the log differs at or after index ${verifiedSize}`,
        );
      }
    }
  };
  // Envelopes below the horizon were pruned by retention: their committed leaf hashes stand in for them.
  const fillPruned = async (to: number) => {
    const from = expectedIndex;
    const end = Math.min(to, horizon);
    for (let at = from; at < end; at += batchSize) {
      const leaves = await store.leafHashes(at, Math.min(end, at + batchSize));
      for (const leaf of leaves) appendLeaf(leaf);
      if (leaves.length < Math.min(end, at + batchSize) - at) {
        precise('missing', at + leaves.length, `the leaf hashes of pruned records from index ${at + leaves.length} are missing`);
        break;
      }
    }
    expectedIndex = Math.max(expectedIndex, end);
  };
  for await (const batch of store.scanLeaves(batchSize)) {
    for (let i = 0; i < batch.indexes.length; i++) {
      const index = batch.indexes[i]!;
      if (index > expectedIndex && expectedIndex < horizon) await fillPruned(index);
      // Contiguity is tracked apart from the position so one deletion is reported once, not per later row.
      if (index > expectedIndex) precise('missing', expectedIndex, `record(s) at index ${expectedIndex}..${index - 1} are missing (deleted)`);
      else if (index < expectedIndex) precise('misplaced', position, `the record at position ${position} claims index ${index} (inserted, duplicated or reordered)`);
      expectedIndex = Math.max(expectedIndex, index + 1);
      const committed = batch.committed[i];
      if (committed === LEAF_NOT_COMMITTED) precise('changed', position, `record ${position} has no committed leaf hash (inserted, or its leaf was removed)`);
      else if (committed === LEAF_DIFFERS) precise('changed', position, `record ${position} differs from the leaf committed for index ${index} (changed, inserted or swapped)`);
      appendLeaf(batch.leaves.subarray(i * 32, i * 32 + 32));
    }
    options.onProgress?.(position, total);
  }
  if (expectedIndex < horizon) await fillPruned(horizon);

  const largest = sizes.at(-1);
  if (largest !== undefined && largest > position) {
    const sources = [...new Set(roots.get(largest)!.map((k) => k.source))].join(', ');
    problems.add('truncated', position, `the log holds ${position} records but a checkpoint (${sources}) covers ${largest}: records from index ${position} were removed`);
  }
  const extraLeaves = await store.leafHashes(position, position + 1);
  if (extraLeaves.length > 0 && (largest === undefined || largest <= position)) {
    problems.add('truncated', position, `leaf hashes exist beyond the last record (${position}): records from index ${position} were removed`);
  }
  const covered = largest ?? 0;
  if (position > covered) warnings.push(`${position - covered} record(s) from index ${covered} are not yet covered by a checkpoint.`);

  const list = problems.list();
  const indexes = list.flatMap((p) => (p.index === undefined ? [] : [p.index]));
  return {
    ok: list.length === 0,
    size: position,
    firstBadIndex: indexes.length ? Math.min(...indexes) : null,
    problems: list,
    warnings,
    checkpointsChecked: stored.length,
    anchoredCheckpointsChecked: anchored.length,
    anchor: options.anchor?.location ?? null,
    verifiedSize,
  };
}

function collectRoots(
  stored: StoredCheckpoint[],
  storeName: string,
  anchored: StoredCheckpoint[],
  options: VerifyOptions,
  problems: ProblemList,
): Map<number, KnownRoot[]> {
  const roots = new Map<number, KnownRoot[]>();
  const add = (cp: StoredCheckpoint, source: string) => {
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(cp.note, options.verifierKey, options.origin);
    } catch (err) {
      problems.add('bad-checkpoint', undefined, `${source} checkpoint of size ${cp.size} is not valid: ${(err as Error).message}`);
      return;
    }
    const list = roots.get(checkpoint.size) ?? [];
    if (list.some((k) => !k.checkpoint.root.equals(checkpoint.root))) {
      problems.add('fork', undefined, `two validly signed checkpoints of size ${checkpoint.size} have different roots: the log was rewritten`);
    }
    list.push({ checkpoint, source });
    roots.set(checkpoint.size, list);
  };
  for (const cp of stored) add(cp, storeName);
  for (const cp of anchored) add(cp, 'anchor');
  return roots;
}

class ProblemList {
  private problems: VerifyProblem[] = [];
  private counts = new Map<ProblemKind, number>();

  add(kind: ProblemKind, index: number | undefined, message: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= MAX_LISTED_PER_KIND) this.problems.push(index === undefined ? { kind, message } : { kind, index, message });
  }

  list(): VerifyProblem[] {
    const extra = [...this.counts].filter(([, n]) => n > MAX_LISTED_PER_KIND);
    return [...this.problems, ...extra.map(([kind, n]) => ({ kind, message: `${n - MAX_LISTED_PER_KIND} more '${kind}' problem(s) not listed` }))];
  }
}

import type { Anchor } from '../log/anchor.js';
import { openBatchSeal, sealedPrefix, type StoredSeal } from '../log/batch-seal.js';
import { openCheckpoint, type Checkpoint } from '../log/checkpoint.js';
import { MerkleFrontier } from '../log/merkle.js';
import { LEAF_DIFFERS, LEAF_EVENTS_UNINDEXED, LEAF_ID_DIFFERS, LEAF_NOT_COMMITTED, LEAF_STATS_DIFFER } from '../store/leaf-scan.js';
import type { StatsCopiesCheck, Store, StoredCheckpoint } from '../store/store.js';

export type ProblemKind = 'missing' | 'misplaced' | 'changed' | 'root-mismatch' | 'truncated' | 'bad-checkpoint' | 'fork' | 'unsealed' | 'horizon' | 'derived';

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
  /** Records covered by a signed checkpoint, head or batch seal that matched the recomputed log. */
  coveredBySignature: number;
  /** Records covered by an anchored checkpoint that matched the recomputed tree. */
  coveredByAnchor: number;
  /** Records below this index were pruned by retention, as the log's signed checkpoints state; their leaf hashes stood in for them. */
  prunedBelow: number;
}

export interface VerifyOptions {
  origin: string;
  verifierKey: string;
  anchor?: Anchor;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Problems of one kind beyond this many are counted, not listed: a wiped log must not flood memory. */
const MAX_LISTED_PER_KIND = 20;

type RootSource = 'store' | 'head' | 'anchor';

interface KnownRoot {
  checkpoint: Checkpoint;
  source: RootSource;
}

/**
 * Recomputes the tree from the stored bytes and holds it against every signed checkpoint, in
 * the store, its signed head and at the anchor. Stored leaf hashes (kept apart from the rows) pin
 * down which record changed; checkpoints catch whatever rewrote both; the head catches a row
 * that no writer of this ledger sequenced; the anchor catches truncation, rollback and forks.
 * The pruning horizon (below which missing rows are expected) is taken only from signed notes.
 */
export async function verifyLog(store: Store, options: VerifyOptions): Promise<VerifyReport> {
  const problems = new ProblemList();
  const warnings: string[] = [];
  const [stored, head] = await Promise.all([store.checkpoints(), store.head()]);
  const anchored = options.anchor ? options.anchor.read() : [];
  if (!options.anchor) {
    warnings.push(
      'No anchor is configured (log.anchor.path): truncation or rollback of the newest records cannot be detected. Configure an anchor outside the database.',
    );
  }
  const roots = collectRoots(
    [...stored.map((cp) => [cp, 'store'] as const), ...(head ? [[head, 'head'] as const] : []), ...anchored.map((cp) => [cp, 'anchor'] as const)],
    options,
    problems,
  );
  const sizes = [...roots.keys()].sort((a, b) => a - b);
  const horizon = signedHorizon(roots, problems);
  anchoredButNotStored(stored, anchored, problems);
  // Every row the writer sequenced lies within its newest signed note; beyond it, none should exist.
  const sealed = sizes.at(-1) ?? 0;

  const total = await store.size();
  const tree = new MerkleFrontier();
  let position = 0;
  let expectedIndex = 0;
  let nextCheck = 0;
  let verifiedSize = 0;
  let anchorVerifiedSize = 0;
  let diverged = false;
  // The first row-level problem since the last matching checkpoint (and anchored one): it explains a root mismatch exactly.
  let firstPreciseSinceVerified: number | undefined;
  let firstPreciseSinceAnchored: number | undefined;
  const precise = (kind: ProblemKind, index: number, message: string) => {
    firstPreciseSinceVerified ??= index;
    firstPreciseSinceAnchored ??= index;
    problems.add(kind, index, message);
  };
  const batchSize = options.batchSize ?? 10_000;
  // The recomputed leaves beyond every signed note, for a store whose batch seals vouch for them.
  const tail: Uint8Array[] = [];
  const keepTail = store.batchSeals !== undefined;
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
        if (known.some((k) => k.source === 'anchor')) {
          anchorVerifiedSize = tree.size;
          firstPreciseSinceAnchored = undefined;
        }
      } else if (mismatch.length > 0) {
        diverged = true;
        // The anchor holds what was published: stored checkpoints since its last match may be a fork's own.
        const anchorDiffers = mismatch.some((k) => k.source === 'anchor');
        const from = anchorDiffers ? (firstPreciseSinceAnchored ?? anchorVerifiedSize) : (firstPreciseSinceVerified ?? verifiedSize);
        problems.add(
          anchorDiffers ? 'fork' : 'root-mismatch',
          from,
          `the tree of size ${tree.size} does not match its signed checkpoint (${[...new Set(mismatch.map((m) => m.source))].join(', ')}); the log differs at or after index ${from}${anchorDiffers ? ' (the last index at which it matched the anchor)' : ''}`,
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
  // The rest of the stats copies' check (copies of no record, packed blocks: about 1 s a million
  // calls on this thread) runs once the scan has started, so the scan's threads work meanwhile.
  let derived: Promise<StatsCopiesCheck | undefined> | undefined;
  for await (const batch of store.scanLeaves(batchSize)) {
    derived ??= checkCopies(store);
    for (let i = 0; i < batch.indexes.length; i++) {
      const index = batch.indexes[i]!;
      if (index > expectedIndex && expectedIndex < horizon) await fillPruned(index);
      // Contiguity is tracked apart from the position so one deletion is reported once, not per later row.
      if (index > expectedIndex) precise('missing', expectedIndex, `record(s) at index ${expectedIndex}..${index - 1} are missing (deleted)`);
      else if (index < expectedIndex)
        precise('misplaced', position, `the record at position ${position} claims index ${index} (inserted, duplicated or reordered)`);
      expectedIndex = Math.max(expectedIndex, index + 1);
      const committed = batch.committed[i];
      if (committed === LEAF_NOT_COMMITTED) precise('changed', position, `record ${position} has no committed leaf hash (inserted, or its leaf was removed)`);
      else if (committed === LEAF_DIFFERS)
        precise('changed', position, `record ${position} differs from the leaf committed for index ${index} (changed, inserted or swapped)`);
      else if (committed === LEAF_ID_DIFFERS)
        precise(
          'changed',
          position,
          `record ${position} is stored under an id that is not its envelope's (the id column was edited: a lookup by id would find the wrong record)`,
        );
      // The record is intact; what stats read of it is not: named, but no index of the log is bad.
      else if (committed === LEAF_STATS_DIFFER)
        problems.add(
          'derived',
          undefined,
          `call_stats disagrees with the llm.call records at index ${index}: what stats report differs from the records (edited); run 'llm-ledger stats --check'`,
        );
      else if (committed === LEAF_EVENTS_UNINDEXED)
        problems.add(
          'derived',
          undefined,
          `the index of events lacks an event the record at index ${index} carries: a search by event type would not find it (the index was edited)`,
        );
      const leaf = batch.leaves.subarray(i * 32, i * 32 + 32);
      if (keepTail && position >= sealed) tail.push(leaf);
      appendLeaf(leaf);
    }
    options.onProgress?.(position, total);
  }
  if (expectedIndex < horizon) await fillPruned(horizon);

  if (sealed > position) {
    const sources = [...new Set(roots.get(sealed)!.map((k) => k.source))].join(', ');
    problems.add(
      'truncated',
      position,
      `the log holds ${position} records but a signed checkpoint (${sources}) covers ${sealed}: records from index ${position} were removed`,
    );
  }
  const extraLeaves = await store.leafHashes(position, position + 1);
  if (extraLeaves.length > 0 && sealed <= position) {
    problems.add('truncated', position, `leaf hashes exist beyond the last record (${position}): records from index ${position} were removed`);
  }
  // Beyond every signed note: a store with batch seals has them vouch for the newest records.
  let sealedTo = sealed;
  let sealProblem: string | undefined;
  if (store.batchSeals) {
    const seals = await store.batchSeals(sealed);
    const prefix = position > sealed ? sealedPrefix(seals, sealed, tail, options) : { end: sealed };
    ({ end: sealedTo, problem: sealProblem } = prefix);
    // A validly signed seal that names records past the end of the log: they were stored, and are gone.
    const stated = Math.max(prefix.needsLeavesTo ?? 0, ...seals.filter((seal) => seal.first >= position).map((seal) => signedEnd(seal, options)));
    if (stated > position) {
      problems.add(
        'truncated',
        position,
        `the log holds ${position} records but a batch seal covers records up to index ${stated - 1}: records from index ${position} were removed`,
      );
      sealedTo = position;
    }
  }
  if (position > sealedTo) {
    problems.add(
      'unsealed',
      sealedTo,
      `${position - sealedTo} record(s) from index ${sealedTo} are covered by no signed head, checkpoint or batch seal${sealProblem ? ` (${sealProblem})` : ''}: no writer of this ledger stored them (inserted into storage), or a version before signed heads wrote them and never checkpointed them`,
    );
  }
  if (horizon > 0) await checkHorizonStated(store, roots, horizon, problems);
  for (const message of (await (derived ?? checkCopies(store)))?.problems ?? [])
    problems.add('derived', undefined, `${message}: what stats report differs from the records (edited); run 'llm-ledger stats --check'`);
  for (const message of await checkEventIndex(store))
    problems.add('derived', undefined, `${message}: a search by event type would answer otherwise than the records say (the index was edited)`);

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
    coveredBySignature: verifiedSize === sealed ? Math.min(sealedTo, position) : Math.min(verifiedSize, position),
    coveredByAnchor: Math.min(anchorVerifiedSize, position),
    prunedBelow: horizon,
  };
}

/** The stats copies no record's scan covered (see Store.checkStatsCopies); a check that fails is a problem too. */
function checkCopies(store: Store): Promise<StatsCopiesCheck | undefined> {
  return (async () => store.checkStatsCopies?.({ rowsScanned: true }))().catch((err: Error) => ({
    calls: 0,
    blocks: 0,
    problems: [`the copies stats read could not be checked (${err.message})`],
  }));
}

/** The index of the events records carry, held against the records (see Store.checkEventIndex); a check that fails is a problem too. */
function checkEventIndex(store: Store): Promise<string[]> {
  return (async () => (await store.checkEventIndex?.({ rowsScanned: true })) ?? [])().catch((err: Error) => [
    `the index of events could not be checked (${err.message})`,
  ]);
}

/** The end of the batch a seal vouches for, or 0 when it is not a valid seal of this log. */
function signedEnd(seal: StoredSeal, key: { verifierKey: string; origin: string }): number {
  try {
    const { first, count } = openBatchSeal(seal.note, key.verifierKey, key.origin);
    return first === seal.first ? first + count : 0;
  } catch {
    return 0;
  }
}

/**
 * The store keeps every checkpoint it ever published and the anchor gets them after it, so each
 * anchored checkpoint must also be in the store: one that is not was deleted there.
 */
function anchoredButNotStored(stored: readonly StoredCheckpoint[], anchored: readonly StoredCheckpoint[], problems: ProblemList): void {
  const notes = new Set(stored.map((cp) => cp.note));
  const missing = anchored.filter((cp) => !notes.has(cp.note));
  if (missing.length > 0) {
    problems.add(
      'bad-checkpoint',
      undefined,
      `${missing.length} anchored checkpoint(s) (sizes ${missing
        .slice(0, 5)
        .map((cp) => cp.size)
        .join(', ')}${missing.length > 5 ? ', ...' : ''}) are missing from the store: its stored checkpoints were deleted`,
    );
  }
}

function collectRoots(notes: readonly (readonly [StoredCheckpoint, RootSource])[], options: VerifyOptions, problems: ProblemList): Map<number, KnownRoot[]> {
  const roots = new Map<number, KnownRoot[]>();
  for (const [cp, source] of notes) {
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(cp.note, options.verifierKey, options.origin);
    } catch (err) {
      problems.add('bad-checkpoint', undefined, `${source} checkpoint of size ${cp.size} is not valid: ${(err as Error).message}`);
      continue;
    }
    // The signed note is the truth; a size stored beside it that says otherwise was edited.
    if (checkpoint.size !== cp.size) {
      problems.add(
        'bad-checkpoint',
        undefined,
        `a ${source} checkpoint is stored with size ${cp.size} but its signed note says ${checkpoint.size}: the stored size was edited`,
      );
    }
    const list = roots.get(checkpoint.size) ?? [];
    if (list.some((k) => !k.checkpoint.root.equals(checkpoint.root))) {
      problems.add('fork', undefined, `two validly signed checkpoints of size ${checkpoint.size} have different roots: the log was rewritten`);
    }
    list.push({ checkpoint, source });
    roots.set(checkpoint.size, list);
  }
  return roots;
}

/**
 * The pruning horizon the signed notes state (never a row of the log, which anyone who can write
 * storage could add). It only ever grows with the tree: a note that states less than a smaller one
 * was signed over a rolled-back or rewritten log.
 */
function signedHorizon(roots: Map<number, KnownRoot[]>, problems: ProblemList): number {
  let horizon = 0;
  for (const size of [...roots.keys()].sort((a, b) => a - b)) {
    // Notes of one size may differ: a horizon raised with no record since is signed over the same tree.
    const stated = roots.get(size)!.map((k) => ({ source: k.source, prunedBelow: k.checkpoint.prunedBelow ?? 0 }));
    for (const { source, prunedBelow } of stated) {
      if (prunedBelow < horizon)
        problems.add(
          'horizon',
          undefined,
          `the ${source} checkpoint of size ${size} states a pruning horizon of ${prunedBelow}, below the ${horizon} of a smaller one: horizons only grow`,
        );
    }
    horizon = Math.max(horizon, ...stated.map((n) => n.prunedBelow));
  }
  return horizon;
}

/**
 * The signed horizon must be one a `retention` record of the log stated, before the first
 * checkpoint that carries it: the ledger signs a horizon only after committing that record.
 */
async function checkHorizonStated(store: Store, roots: Map<number, KnownRoot[]>, horizon: number, problems: ProblemList): Promise<void> {
  const firstSigned = Math.min(
    ...[...roots.entries()].filter(([, known]) => known.some((k) => (k.checkpoint.prunedBelow ?? 0) >= horizon)).map(([size]) => size),
  );
  for await (const batch of store.scan({ kind: 'retention' }, 100)) {
    for (const { index, envelope } of batch) {
      const stated = (envelope.metadata as { envelopes?: { below?: unknown } } | undefined)?.envelopes?.below;
      if (stated === horizon && index < firstSigned) return;
    }
  }
  problems.add(
    'horizon',
    undefined,
    `the signed pruning horizon ${horizon} is stated by no retention record of the log below index ${firstSigned}: the retention record was removed or altered`,
  );
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

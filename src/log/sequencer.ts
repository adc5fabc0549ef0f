import { NoteSigner, openCheckpoint } from './checkpoint.js';
import { MerkleFrontier } from './merkle.js';

/**
 * The log's head as a store keeps it, replaced in the transaction of every batch: the size, the
 * note signed over the whole tree, and the tree's right edge (MerkleFrontier JSON) to extend it by.
 */
export interface StoredHead {
  size: number;
  note: string;
  /** Absent in a store written before heads kept their frontier: rebuilt from the leaf hashes once. */
  frontier?: string | null;
}

/** What a store signed and keeps as its new head. */
export interface SequencedBatch {
  /** The batch's first index. */
  first: number;
  head: { size: number; note: string; frontier: string };
}

export class SequencerError extends Error {
  override readonly name = 'SequencerError';
}

/**
 * Sequences batches where a store commits them: inside the store's write transaction, which every
 * process appending to the store takes in turn (SQLite's write lock, a row lock on PostgreSQL).
 * There it reads the head as stored, gives the batch the indexes after it, extends the tree and
 * signs the new head, which the store writes in the same transaction. So each batch lands where
 * the log really ends, whichever process wrote last, and every store shares this one write path.
 *
 * The tree of the head it signed last is kept: while the stored head is that one, nothing is read
 * but the head. Another writer's head is taken up from the frontier stored with it, held against
 * the root its signed note states. Constructed from the signer key's text, so a store's writer
 * thread can hold one of its own.
 */
export class Sequencer {
  readonly signerKey: string;
  readonly origin: string;
  private readonly signer: NoteSigner;
  private last: { note: string; tree: MerkleFrontier; prunedBelow: number } | undefined;
  private adopted: MerkleFrontier | undefined;

  // No parameter properties: a SQLite writer thread runs this file from the TypeScript sources in tests, where Node only strips types.
  constructor(signerKey: string, origin: string) {
    this.signerKey = signerKey;
    this.origin = origin;
    this.signer = new NoteSigner(signerKey);
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  /**
   * Takes `tree` (checked by the caller against everything signed) for the next batch instead of
   * the stored head, which it extends: records beyond the head that an operator accepted into the
   * log (`llm-ledger repair --accept-unsealed`); the next head signs over them.
   */
  adopt(tree: MerkleFrontier): void {
    this.adopted = tree.clone();
  }

  /**
   * The adopted tree (frontier JSON) for a store that sequences with a Sequencer of its own (a
   * writer thread's), handed over once.
   */
  takeAdoption(): string | undefined {
    const tree = this.adopted;
    this.adopted = undefined;
    return tree && JSON.stringify(tree.toJSON());
  }

  /** Adopts a tree handed over by `takeAdoption`. */
  adoptJSON(frontier: string): void {
    this.adopt(MerkleFrontier.fromJSON(JSON.parse(frontier)));
  }

  /**
   * Signs the head after `leaves` (the batch's leaf hashes, 32 bytes each, in order). `stored` is
   * the head as the transaction reads it; `storedLeaves` reads the stored leaf hashes in index
   * order, up to the head if there is one: needed only for a log without a stored frontier (written
   * before heads kept theirs, or before heads). `raiseHorizon` raises the pruning horizon the head states (it
   * never falls); with no leaves the head is signed again over the same tree.
   */
  sequence(
    stored: StoredHead | undefined,
    leaves: Uint8Array,
    options: { raiseHorizon?: number; storedLeaves?: () => Iterable<Uint8Array> } = {},
  ): SequencedBatch {
    if (leaves.length % 32 !== 0) throw new SequencerError(`a batch's leaf hashes are 32 bytes each; got ${leaves.length} bytes`);
    const { tree, prunedBelow } = this.resume(stored, options.storedLeaves);
    const first = tree.size;
    for (let at = 0; at < leaves.length; at += 32) tree.append(leaves.subarray(at, at + 32));
    const horizon = Math.min(tree.size, Math.max(prunedBelow, options.raiseHorizon ?? 0));
    const note = this.signer.sign({ origin: this.origin, size: tree.size, root: tree.root(), prunedBelow: horizon });
    // Kept as if committed: if the store rolls the transaction back, its head differs from this note
    // and the next batch takes the stored one up again.
    this.last = { note, tree, prunedBelow: horizon };
    this.adopted = undefined;
    return { first, head: { size: tree.size, note, frontier: JSON.stringify(tree.toJSON()) } };
  }

  /**
   * Whether `sequence(stored, ...)` will read the stored leaf hashes (a head without a frontier, or
   * none): a store that cannot read them synchronously reads them before it calls `sequence`.
   */
  needsStoredLeaves(stored: StoredHead | undefined): boolean {
    if (!stored) return !this.adopted;
    return this.last?.note !== stored.note && !stored.frontier;
  }

  /** A copy of the tree at the stored head: the cached one, or the stored frontier checked against its signed root. */
  private resume(stored: StoredHead | undefined, storedLeaves?: () => Iterable<Uint8Array>): { tree: MerkleFrontier; prunedBelow: number } {
    // No head: a new log, or one from before heads, whose tree Ledger.create held against its newest checkpoint.
    if (!stored) return { tree: this.adopted?.clone() ?? this.rebuild(storedLeaves), prunedBelow: 0 };
    if (this.last && this.last.note === stored.note) return { tree: this.last.tree.clone(), prunedBelow: this.last.prunedBelow };
    let signed;
    try {
      signed = openCheckpoint(stored.note, this.signer.verifierKey, this.origin);
    } catch (err) {
      throw new SequencerError(
        `the stored head does not verify (${(err as Error).message}); appends are refused until this is investigated (run 'llm-ledger verify')`,
      );
    }
    if (signed.size !== stored.size)
      throw new SequencerError(`the stored head says size ${stored.size} but its signed note says ${signed.size}; run 'llm-ledger verify'`);
    let tree: MerkleFrontier;
    try {
      tree = stored.frontier ? MerkleFrontier.fromJSON(JSON.parse(stored.frontier)) : this.rebuild(storedLeaves);
    } catch (err) {
      if (err instanceof SequencerError) throw err;
      throw new SequencerError(`the stored head's frontier is damaged (${(err as Error).message}); run 'llm-ledger verify'`);
    }
    if (tree.size !== signed.size || !tree.root().equals(signed.root))
      throw new SequencerError(
        `the stored head's frontier does not give the root its signed note states (size ${signed.size}); appends are refused until this is investigated (run 'llm-ledger verify')`,
      );
    if (this.adopted && this.adopted.size > tree.size) tree = this.adopted.clone();
    return { tree, prunedBelow: signed.prunedBelow ?? 0 };
  }

  private rebuild(storedLeaves?: () => Iterable<Uint8Array>): MerkleFrontier {
    const tree = new MerkleFrontier();
    for (const leaf of storedLeaves?.() ?? []) tree.append(leaf);
    return tree;
  }
}

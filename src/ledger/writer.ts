import type { Anchor } from '../log/anchor.js';
import { signBatchSeal } from '../log/batch-seal.js';
import type { NoteSigner } from '../log/checkpoint.js';
import { leafHashOfText, type MerkleFrontier } from '../log/merkle.js';
import type { AppendEntry, Store, StoredCheckpoint } from '../store/store.js';
import type { Spool, SpooledEntry } from './spool.js';

/**
 * A store that numbers records itself, so any number of processes can append to one log
 * (PostgreSQL). The writer then sends records without indexes and signs no checkpoint: the one
 * integrator the processes elect among themselves extends the tree and signs (`integrate`).
 */
export interface NumberingStore {
  /**
   * Stores a batch at the next free indexes with the seal `seal` signs over them (see
   * src/log/batch-seal.ts); resolves with each record's index (-1: a replayed record that was already stored).
   */
  appendNumbered(entries: readonly Omit<AppendEntry, 'index'>[], options: { replayed?: boolean; seal: (first: number, leaves: readonly Buffer[]) => string }): Promise<number[]>;
  /** Stores a seal for records already stored (an operator's `repair --accept-unsealed`). */
  addBatchSeal(first: number, note: string): Promise<void>;
  integrate(options: { signer: NoteSigner; origin: string; anchor?: Anchor; intervalMs: number; onWarning: (message: string) => void }): Integration;
}

/** This process's part in integrating a shared log. */
export interface Integration {
  /** Size covered by the newest checkpoint known here. */
  readonly coveredSize: number;
  /** Resolves once a checkpoint covers the first `size` records. */
  covered(size: number): Promise<void>;
  close(): Promise<void>;
}

export function numberingStore(store: Store): (Store & NumberingStore) | undefined {
  const candidate = store as Store & Partial<NumberingStore>;
  return typeof candidate.appendNumbered === 'function' && typeof candidate.integrate === 'function' && typeof candidate.addBatchSeal === 'function' ? (candidate as Store & NumberingStore) : undefined;
}

export interface WriterOptions {
  origin: string;
  maxBatch: number;
  maxWaitMs: number;
  checkpointIntervalMs: number;
  /** Told about failures that do not reject a record (an anchor that could not be written). */
  onWarning: (message: string) => void;
  /**
   * Where sealed records go while the store fails, instead of being rejected: they are replayed
   * into the store, in order, once it takes appends again. Without one, records of a failed
   * batch are rejected.
   */
  spool?: Spool;
  /** How long to wait before trying a failing store again with the spooled records (default 1000). */
  retryIntervalMs?: number;
  /** Told when the store starts refusing appends (with why) and when it takes them again. */
  onStoreStatus?: (available: boolean, error?: Error) => void;
  /** Many-writers mode: the store numbers the records, and `integration` checkpoints them. */
  numbering?: { store: NumberingStore; integration: Integration };
}

export interface Receipt {
  /** Position in the log; -1 while the record waits in the spool (its place is given on replay). */
  index: number;
  /** The store was failing: the record is durable in the spool and enters the log on replay. */
  spooled?: true;
}

/**
 * A record waiting for its batch to commit. Built by a constructor, not as an object literal: once
 * most objects of a literal outlive a scavenge (as they do while a backlog waits), V8 allocates
 * that literal's objects in the old generation from then on, and every dead one there keeps its
 * record's text and promise alive through scavenges until the next full collection. In the latency
 * benchmark that turned 1 ms scavenges into 15-25 ms ones for the rest of the run.
 */
class Pending {
  constructor(
    readonly id: string,
    readonly canonical: string,
    readonly leafHash: Buffer,
    readonly content: AppendEntry['content'],
    readonly resolve: (receipt: Receipt) => void,
    readonly reject: (err: Error) => void,
  ) {}
}

/** A checkpoint as the writer signed it, with the pruning horizon its note states. */
interface SignedCheckpoint extends StoredCheckpoint {
  prunedBelow: number;
}

/** A committed record's receipt; a class for the reason Pending is one. */
class StoredAt implements Receipt {
  constructor(readonly index: number) {}
}

/** Batches sent to the store before the first is committed: enough to keep a writer thread busy. */
const MAX_IN_FLIGHT = 3;

/**
 * Group commit: records queue up and are sequenced, appended and (when due) checkpointed in one
 * store transaction per batch. Each `submit` resolves only after its batch is durable, so a
 * caller can await durability without paying one transaction per record.
 *
 * Several batches may be on their way to the store at once, sequenced optimistically, so
 * preparing the next records overlaps with committing the last ones. Stores refuse a batch that
 * does not start at their size, so when one batch fails every later one fails too; the tree is
 * then rolled back to the last committed batch and sequencing starts again from there.
 */
export class LogWriter {
  private queue: Pending[] = [];
  /** Cancels the scheduled drain, if one is scheduled; `waiting` says whether it is a delayed one. */
  private scheduled: { cancel: () => void; waiting: boolean } | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private lastCheckpointAt = 0;
  /** The tree including batches still in flight. */
  private frontier: MerkleFrontier;
  private inFlight = 0;
  private failedSinceIdle = false;
  private idleWaiters: (() => void)[] = [];
  /** Anchor writes, one after another in publication order, off the path that resolves records. */
  private anchoring: Promise<void> = Promise.resolve();
  /** Checkpoints the anchor refused (a full disk, say): tried again, in order, before the next one. */
  private anchorBacklog: StoredCheckpoint[] = [];
  /** The pruning horizon the newest checkpoint states: a raised horizon needs a checkpoint of its own. */
  private checkpointedHorizon: number;
  /** False from a failed append until one succeeds. */
  private available = true;
  /** The spool holds records not yet in the store: new ones must go behind them, to keep the order. */
  private spooling = false;
  /** Byte offset in the spool of the first record not yet replayed. */
  private replayOffset = 0;
  /** Spool entries already replayed (for `spooledCount`). */
  private replayedEntries = 0;
  private replayRun: Promise<void> | undefined;
  /**
   * Records replayed a batch: halved after a failed replay, grown back after each success. A store
   * that has just come back, or one with an append deadline, may refuse a full batch of a large
   * spool in time, and would refuse it again on every retry.
   */
  private replayBatch: number;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Spooled by a previous process: its first records may have reached the store before it stopped. */
  private skipStored = false;
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly signer: NoteSigner,
    private readonly anchor: Anchor | undefined,
    private readonly options: WriterOptions,
    /** The tree as committed. */
    private committed: MerkleFrontier,
    private checkpointedSize: number,
    /** Records below this index may be pruned, as the newest signed checkpoint or head says (see `raiseHorizon`). */
    private prunedBelow = 0,
    /** Stored checkpoints the anchor lacks (a crash or a full disk kept them from it): anchored first. */
    unanchored: readonly StoredCheckpoint[] = [],
  ) {
    this.checkpointedHorizon = prunedBelow;
    this.replayBatch = options.maxBatch;
    for (const checkpoint of unanchored) this.anchorCheckpoint(checkpoint);
    this.frontier = committed.clone();
    if (options.spool && options.spool.entries > 0) {
      this.spooling = true;
      this.skipStored = true;
      setImmediate(() => void this.replay());
    }
  }

  /** False while the store refuses appends (from a failed batch until one succeeds). */
  get storeAvailable(): boolean {
    return this.available;
  }

  /** Records waiting in the spool for the store. */
  get spooledCount(): number {
    return this.options.spool ? this.options.spool.entries - this.replayedEntries : 0;
  }

  /** Size covered by the newest checkpoint. */
  get coveredSize(): number {
    return this.options.numbering?.integration.coveredSize ?? this.checkpointedSize;
  }

  submit(id: string, canonical: string, leafHash: Buffer, content?: AppendEntry['content']): Promise<Receipt> {
    return new Promise<Receipt>((resolve, reject) => {
      const pending = new Pending(id, canonical, leafHash, content, resolve, reject);
      // Right after a failure, batches still in flight will be spooled first: queue behind them.
      if (this.spooling && !this.failedSinceIdle) {
        this.spool([pending]);
        return;
      }
      this.queue.push(pending);
      this.drainSoon(this.queue.length >= this.options.maxBatch ? 0 : this.options.maxWaitMs);
    });
  }

  /**
   * Commits everything queued so far and publishes a checkpoint covering it. While the store
   * fails and a spool is configured, records are durable in the spool instead: flush then tries
   * one replay and returns without a checkpoint if the store still refuses.
   */
  async flush(): Promise<void> {
    this.cancelScheduled();
    while ((this.queue.length > 0 && !this.spooling) || this.inFlight > 0) {
      this.drain();
      await this.idle();
    }
    if (this.spooling) {
      await this.replay();
      await this.options.spool!.idle();
      if (this.spooling) return;
    }
    await this.publishCheckpoint();
    await this.anchoring;
  }

  /** Publishes a checkpoint now if any committed record is not yet covered by one. */
  async publishCheckpoint(): Promise<void> {
    // Alone, a checkpoint must follow only committed batches: one in flight might still fail.
    await this.idle();
    const numbering = this.options.numbering;
    // Many writers: whatever the log holds now, this process's records included, gets covered by the integrator.
    if (numbering) return numbering.integration.covered(await this.store.size());
    if (this.committed.size === this.checkpointedSize && this.prunedBelow === this.checkpointedHorizon) return;
    const checkpoint = this.sign(this.committed);
    this.inFlight++;
    try {
      await this.store.append([], checkpoint);
      this.checkpointed(checkpoint);
    } finally {
      this.settled();
    }
  }

  /**
   * Raises the pruning horizon to `below`, once the `retention` record that states it is
   * committed, and publishes a checkpoint that says so: rows below it may be deleted only after
   * that, so every deletion is covered by the log's own signature. Never lowered.
   */
  async raiseHorizon(below: number): Promise<void> {
    // Many writers: the integrator reads the horizon from the retention record, once a checkpoint covers it.
    if (this.options.numbering) return this.flush();
    if (below > this.committed.size) throw new Error(`the pruning horizon ${below} lies beyond the committed log (${this.committed.size})`);
    this.prunedBelow = Math.max(this.prunedBelow, below);
    await this.flush();
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    try {
      await this.flush();
    } finally {
      if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      const left = this.spooledCount;
      if (left > 0) this.options.onWarning(`${left} record(s) wait in the spool ${this.options.spool!.path}: the store did not take them before close; they are replayed, in order, when the ledger opens next`);
      await this.options.spool?.close();
      await this.options.numbering?.integration.close();
    }
  }

  /** The first record of a batch waits up to `delayMs` for company; a full batch goes at once. */
  private drainSoon(delayMs: number): void {
    if (this.scheduled && (delayMs > 0 || !this.scheduled.waiting)) return;
    this.cancelScheduled();
    const run = () => {
      this.scheduled = undefined;
      this.drain();
    };
    if (delayMs > 0) {
      const timer = setTimeout(run, delayMs);
      this.scheduled = { cancel: () => clearTimeout(timer), waiting: true };
    } else {
      const immediate = setImmediate(run);
      this.scheduled = { cancel: () => clearImmediate(immediate), waiting: false };
    }
  }

  private cancelScheduled(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT && !this.failedSinceIdle && !this.spooling) {
      this.send(this.queue.splice(0, this.options.maxBatch));
    }
  }

  /** Sequences one batch and appends it; a replayed batch is not spooled again when it fails. */
  private send(batch: Pending[], replayed = false): void {
    const numbering = this.options.numbering;
    let after: MerkleFrontier | undefined;
    let checkpoint: SignedCheckpoint | undefined;
    let stored: Promise<number[]>;
    if (numbering) {
      const entries = batch.map((p) => (p.content ? { id: p.id, canonical: p.canonical, leafHash: p.leafHash, content: p.content } : { id: p.id, canonical: p.canonical, leafHash: p.leafHash }));
      stored = numbering.store.appendNumbered(entries, { replayed, seal: (first, leaves) => signBatchSeal(this.signer, this.options.origin, first, leaves) });
    } else {
      const first = this.frontier.size;
      const entries: AppendEntry[] = batch.map((p) => {
        const entry: AppendEntry = { index: this.frontier.size, id: p.id, canonical: p.canonical, leafHash: p.leafHash };
        if (p.content) entry.content = p.content;
        this.frontier.append(p.leafHash);
        return entry;
      });
      after = this.frontier.clone();
      // Every batch carries the log's signed head, committed with it: a row in storage beyond the
      // head was not sequenced here. A due checkpoint is the head itself, kept and anchored too.
      const head = this.sign(after);
      const due = Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
      checkpoint = due ? head : undefined;
      if (checkpoint) this.lastCheckpointAt = Date.now();
      // The entries are the store's once handed over; holding them here until the commit would only
      // keep their objects alive through scavenges (see Pending).
      stored = this.store.append(entries, checkpoint, head).then(() => batch.map((_, i) => first + i));
    }
    this.inFlight++;
    stored.then(
      (indexes) => {
        if (after) this.committed = after;
        if (checkpoint) this.checkpointed(checkpoint);
        else if (!numbering) this.scheduleCheckpoint();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(new StoredAt(indexes[i]!));
        this.storeStatus(true);
        this.settled();
      },
      (err: Error) => {
        this.failedSinceIdle = true;
        this.storeStatus(false, err);
        if (this.options.spool && !replayed) {
          this.spooling = true;
          this.spool(batch);
        } else {
          for (const p of batch) p.reject(err);
        }
        this.settled();
      },
    );
  }

  private storeStatus(available: boolean, error?: Error): void {
    if (this.available === available) return;
    this.available = available;
    this.options.onStoreStatus?.(available, error);
  }

  /** Writes records to the spool in call order; each resolves once on disk, or rejects if the spool fails too. */
  private spool(batch: Pending[]): void {
    const entries: SpooledEntry[] = batch.map((p) => (p.content ? { id: p.id, canonical: p.canonical, content: p.content } : { id: p.id, canonical: p.canonical }));
    this.options.spool!.append(entries).then(
      () => {
        for (const p of batch) p.resolve({ index: -1, spooled: true });
      },
      (err: Error) => {
        for (const p of batch) p.reject(err);
      },
    );
    this.scheduleReplay();
  }

  private scheduleReplay(): void {
    if (this.retryTimer || this.closing) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.replay();
    }, this.options.retryIntervalMs ?? 1000);
    this.retryTimer.unref();
  }

  /**
   * Moves spooled records into the store, oldest first, a batch at a time. When it has caught up
   * with the spool, the spool is emptied and records go to the store directly again. A failure
   * leaves everything where it is, to be tried again after `retryIntervalMs`.
   */
  private replay(): Promise<void> {
    this.replayRun ??= this.replaySpool().finally(() => {
      this.replayRun = undefined;
    });
    return this.replayRun;
  }

  private async replaySpool(): Promise<void> {
    const spool = this.options.spool!;
    while (this.spooling) {
      // Batches of direct records still in flight fail (and are spooled) before replay may start.
      if (this.inFlight > 0 || this.failedSinceIdle) await this.idle();
      let read;
      try {
        read = await spool.read(this.replayOffset, this.replayBatch);
      } catch (err) {
        this.options.onWarning(`cannot replay the spool: ${(err as Error).message}`);
        return;
      }
      if (read.entries.length === 0) {
        // Caught up, unless appends are still on their way to the file.
        await spool.idle();
        if (this.replayOffset < spool.size) continue;
        this.spooling = false;
        this.replayOffset = 0;
        await spool.clear();
        this.replayedEntries = 0;
        // Records queued while the last batch was replayed go straight to the store now.
        if (this.queue.length > 0) this.drainSoon(0);
        return;
      }
      const entries = this.skipStored ? await this.notYetStored(read.entries) : read.entries;
      const committed = entries.length === 0 || (await this.appendReplayed(entries));
      if (!committed) {
        this.replayBatch = Math.max(1, Math.floor(this.replayBatch / 2));
        this.scheduleReplay();
        return;
      }
      this.replayBatch = Math.min(this.options.maxBatch, this.replayBatch * 2);
      this.replayOffset = read.next;
      this.replayedEntries += read.entries.length;
    }
  }

  /**
   * A spool left by a process that stopped mid-replay may begin with records that reached the
   * store: replay is in order, so they are a prefix, and the first record not found ends it.
   */
  private async notYetStored(entries: SpooledEntry[]): Promise<SpooledEntry[]> {
    for (let i = 0; i < entries.length; i++) {
      if (!(await this.store.getById(entries[i]!.id))) {
        this.skipStored = false;
        return entries.slice(i);
      }
    }
    return [];
  }

  /** One replayed batch through the normal sequencing path; true once committed. */
  private appendReplayed(entries: SpooledEntry[]): Promise<boolean> {
    return new Promise((resolve) => {
      const last = entries.length - 1;
      const batch: Pending[] = entries.map((e, i) => ({
        id: e.id,
        canonical: e.canonical,
        leafHash: leafHashOfText(e.canonical),
        content: e.content,
        resolve: i === last ? () => resolve(true) : () => undefined,
        reject: i === 0 ? () => resolve(false) : () => undefined,
      }));
      this.send(batch, true);
    });
  }

  /** Bookkeeping after a store call ends; when none is left, recovers from failures and moves on. */
  private settled(): void {
    this.inFlight--;
    if (this.inFlight > 0) return;
    if (this.failedSinceIdle) {
      this.failedSinceIdle = false;
      this.frontier = this.committed.clone();
      // Behind the spooled batches, in the order they were submitted.
      if (this.spooling && this.queue.length > 0) this.spool(this.queue.splice(0));
    }
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.queue.length > 0 && !this.spooling) this.drainSoon(0);
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A checkpoint of `tree`, with the horizon it states (not stored: it is in the note). */
  private sign(tree: MerkleFrontier): SignedCheckpoint {
    // A horizon is only ever stated over a tree that holds it (a rolled-back tree may be shorter for a moment).
    const prunedBelow = Math.min(this.prunedBelow, tree.size);
    return { size: tree.size, note: this.signer.sign({ origin: this.options.origin, size: tree.size, root: tree.root(), prunedBelow }), prunedBelow };
  }

  private checkpointed(checkpoint: SignedCheckpoint): void {
    this.checkpointedSize = Math.max(this.checkpointedSize, checkpoint.size);
    this.checkpointedHorizon = checkpoint.prunedBelow;
    this.lastCheckpointAt = Date.now();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.anchorCheckpoint(checkpoint);
  }

  /**
   * Anchors a stored checkpoint, after any the anchor refused before (in order, so the anchor
   * never skips one it could have had); a refusal is a warning, and the checkpoint is tried again
   * with the next one.
   */
  private anchorCheckpoint(checkpoint: StoredCheckpoint): void {
    const anchor = this.anchor;
    if (!anchor) return;
    this.anchoring = this.anchoring.then(async () => {
      const due = [...this.anchorBacklog, checkpoint];
      this.anchorBacklog = [];
      for (let i = 0; i < due.length; i++) {
        try {
          await anchor.publish(due[i]!);
        } catch (err) {
          this.anchorBacklog = due.slice(i);
          this.options.onWarning(`checkpoint of size ${due[i]!.size} was stored but not anchored (tried again with the next checkpoint): ${(err as Error).message}`);
          return;
        }
      }
    });
  }

  /** Records left uncovered get a checkpoint once the interval has passed, even if traffic stops. */
  private scheduleCheckpoint(): void {
    if (this.checkpointTimer) return;
    const wait = Math.max(0, this.lastCheckpointAt + this.options.checkpointIntervalMs - Date.now());
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.publishCheckpoint().catch((err: Error) => this.options.onWarning(`could not publish a checkpoint: ${err.message}`));
    }, wait);
    this.checkpointTimer.unref();
  }
}

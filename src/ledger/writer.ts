import type { Anchor } from '../log/anchor.js';
import { leafHashOfText } from '../log/merkle.js';
import type { Sequencer } from '../log/sequencer.js';
import type { Appended, NewEntry, Store, StoredCheckpoint } from '../store/store.js';
import type { Spool, SpooledEntry } from './spool.js';

export interface WriterOptions {
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
    readonly content: NewEntry['content'],
    readonly eventTypes: NewEntry['eventTypes'],
    readonly resolve: (receipt: Receipt) => void,
    readonly reject: (err: Error) => void,
  ) {}
}

/** A committed record's receipt; a class for the reason Pending is one. */
class StoredAt implements Receipt {
  constructor(readonly index: number) {}
}

/** Batches sent to the store before the first is committed: enough to keep a writer thread busy. */
const MAX_IN_FLIGHT = 3;

/**
 * Group commit: records queue up and go to the store in batches, each sequenced, appended and
 * (when due) checkpointed in one store transaction (the store runs the Sequencer there, so any
 * number of writers may share one log). Each `submit` resolves only after its batch is durable, so
 * a caller can await durability without paying one transaction per record.
 *
 * Several batches may be on their way to the store at once, so preparing the next records overlaps
 * with committing the last ones. After a failed batch no new one is sent until those in flight
 * have settled; then the records go to the spool, if there is one, or are refused.
 */
export class LogWriter {
  private queue: Pending[] = [];
  /** Cancels the scheduled drain, if one is scheduled; `waiting` says whether it is a delayed one. */
  private scheduled: { cancel: () => void; waiting: boolean } | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private lastCheckpointAt = 0;
  /** The size of the newest head this writer committed (other writers may have added since). */
  private headSize: number;
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
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly sequencer: Sequencer,
    private readonly anchor: Anchor | undefined,
    private readonly options: WriterOptions,
    /** The log's size when the writer starts. */
    size: number,
    private checkpointedSize: number,
    /** Records below this index may be pruned, as the newest signed checkpoint or head says (see `raiseHorizon`). */
    private prunedBelow = 0,
    /** Stored checkpoints the anchor lacks (a crash or a full disk kept them from it): anchored first. */
    unanchored: readonly StoredCheckpoint[] = [],
  ) {
    this.checkpointedHorizon = prunedBelow;
    this.replayBatch = options.maxBatch;
    this.headSize = size;
    for (const checkpoint of unanchored) this.anchorCheckpoint(checkpoint);
    if (options.spool && options.spool.entries > 0) {
      this.spooling = true;
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
    return this.checkpointedSize;
  }

  submit(id: string, canonical: string, leafHash: Buffer, content?: NewEntry['content'], eventTypes?: NewEntry['eventTypes']): Promise<Receipt> {
    return new Promise<Receipt>((resolve, reject) => {
      const pending = new Pending(id, canonical, leafHash, content, eventTypes, resolve, reject);
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
    if (this.headSize === this.checkpointedSize && this.prunedBelow === this.checkpointedHorizon) return;
    this.inFlight++;
    try {
      const horizon = this.prunedBelow;
      this.committedHead(await this.store.append([], { sequencer: this.sequencer, checkpoint: true, raiseHorizon: horizon }), horizon);
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
    if (below > this.headSize) throw new Error(`the pruning horizon ${below} lies beyond the committed log (${this.headSize})`);
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
      if (left > 0)
        this.options.onWarning(
          `${left} record(s) wait in the spool ${this.options.spool!.path}: the store did not take them before close; they are replayed, in order, when the ledger opens next`,
        );
      await this.options.spool?.close();
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

  /** Appends one batch; a replayed batch is not spooled again when it fails. */
  private send(batch: Pending[], replayed = false): void {
    const entries: NewEntry[] = batch.map((p) => {
      const entry: NewEntry = { id: p.id, canonical: p.canonical, leafHash: p.leafHash };
      if (p.content) entry.content = p.content;
      if (p.eventTypes) entry.eventTypes = p.eventTypes;
      return entry;
    });
    // A due checkpoint is the batch's head itself, kept and anchored too.
    const checkpoint = Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
    if (checkpoint) this.lastCheckpointAt = Date.now();
    const horizon = this.prunedBelow;
    const request = {
      sequencer: this.sequencer,
      checkpoint,
      ...(horizon > this.checkpointedHorizon ? { raiseHorizon: horizon } : {}),
      ...(replayed ? { replayed } : {}),
    };
    this.inFlight++;
    // The entries are the store's once handed over; holding them here until the commit would only
    // keep their objects alive through scavenges (see Pending).
    this.store.append(entries, request).then(
      (appended) => {
        this.committedHead(appended, horizon);
        if (!appended.checkpoint) this.scheduleCheckpoint();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(new StoredAt(appended.indexes[i]!));
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

  /** Notes the head a batch committed, and anchors it when it was kept as a checkpoint. */
  private committedHead(appended: Appended, horizon: number): void {
    this.headSize = Math.max(this.headSize, appended.head.size);
    if (appended.checkpoint) this.checkpointed(appended.checkpoint, horizon);
  }

  private storeStatus(available: boolean, error?: Error): void {
    if (this.available === available) return;
    this.available = available;
    this.options.onStoreStatus?.(available, error);
  }

  /** Writes records to the spool in call order; each resolves once on disk, or rejects if the spool fails too. */
  private spool(batch: Pending[]): void {
    const entries: SpooledEntry[] = batch.map((p) =>
      p.content ? { id: p.id, canonical: p.canonical, content: p.content } : { id: p.id, canonical: p.canonical },
    );
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
      const committed = await this.appendReplayed(read.entries);
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
   * One replayed batch through the normal path; true once committed. The store leaves out records
   * already stored: the batch's first try may have committed with its answer lost (a deadline, a
   * crash of the process that spooled it).
   */
  private appendReplayed(entries: SpooledEntry[]): Promise<boolean> {
    return new Promise((resolve) => {
      const last = entries.length - 1;
      const batch: Pending[] = entries.map((e, i) => ({
        id: e.id,
        canonical: e.canonical,
        leafHash: leafHashOfText(e.canonical),
        content: e.content,
        // The spool keeps the text; a store that needs the event types reads them from it.
        eventTypes: undefined,
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

  /** `horizon`: the pruning horizon the checkpoint states at least (the store may know a higher one). */
  private checkpointed(checkpoint: StoredCheckpoint, horizon: number): void {
    this.checkpointedSize = Math.max(this.checkpointedSize, checkpoint.size);
    this.checkpointedHorizon = Math.max(this.checkpointedHorizon, horizon);
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
          this.options.onWarning(
            `checkpoint of size ${due[i]!.size} was stored but not anchored (tried again with the next checkpoint): ${(err as Error).message}`,
          );
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

import type { Anchor } from '../log/anchor.js';
import type { NoteSigner } from '../log/checkpoint.js';
import type { MerkleFrontier } from '../log/merkle.js';
import type { AppendEntry, Store, StoredCheckpoint } from '../store/store.js';

export interface WriterOptions {
  origin: string;
  maxBatch: number;
  maxWaitMs: number;
  checkpointIntervalMs: number;
  /** Told about failures that do not reject a record (an anchor that could not be written). */
  onWarning: (message: string) => void;
}

export interface Receipt {
  index: number;
}

interface Pending {
  id: string;
  canonical: string;
  leafHash: Buffer;
  resolve: (receipt: Receipt) => void;
  reject: (err: Error) => void;
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

  constructor(
    private readonly store: Store,
    private readonly signer: NoteSigner,
    private readonly anchor: Anchor | undefined,
    private readonly options: WriterOptions,
    /** The tree as committed. */
    private committed: MerkleFrontier,
    private checkpointedSize: number,
  ) {
    this.frontier = committed.clone();
  }

  /** Size covered by the newest checkpoint. */
  get coveredSize(): number {
    return this.checkpointedSize;
  }

  submit(id: string, canonical: string, leafHash: Buffer): Promise<Receipt> {
    return new Promise<Receipt>((resolve, reject) => {
      this.queue.push({ id, canonical, leafHash, resolve, reject });
      this.drainSoon(this.queue.length >= this.options.maxBatch ? 0 : this.options.maxWaitMs);
    });
  }

  /** Commits everything queued so far and publishes a checkpoint covering it. */
  async flush(): Promise<void> {
    this.cancelScheduled();
    while (this.queue.length > 0 || this.inFlight > 0) {
      this.drain();
      await this.idle();
    }
    await this.publishCheckpoint();
  }

  /** Publishes a checkpoint now if any committed record is not yet covered by one. */
  async publishCheckpoint(): Promise<void> {
    // Alone, a checkpoint must follow only committed batches: one in flight might still fail.
    await this.idle();
    if (this.committed.size === this.checkpointedSize) return;
    const checkpoint = this.sign(this.committed);
    this.inFlight++;
    try {
      await this.store.append([], checkpoint);
      this.checkpointed(checkpoint);
    } finally {
      this.settled();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
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
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT && !this.failedSinceIdle) {
      this.send(this.queue.splice(0, this.options.maxBatch));
    }
  }

  private send(batch: Pending[]): void {
    const entries: AppendEntry[] = batch.map((p) => {
      const entry = { index: this.frontier.size, id: p.id, canonical: p.canonical, leafHash: p.leafHash };
      this.frontier.append(p.leafHash);
      return entry;
    });
    const after = this.frontier.clone();
    const due = Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
    const checkpoint = due ? this.sign(after) : undefined;
    if (checkpoint) this.lastCheckpointAt = Date.now();
    this.inFlight++;
    this.store.append(entries, checkpoint).then(
      () => {
        this.committed = after;
        if (checkpoint) this.checkpointed(checkpoint);
        else this.scheduleCheckpoint();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve({ index: entries[i]!.index });
        this.settled();
      },
      (err: Error) => {
        this.failedSinceIdle = true;
        for (const p of batch) p.reject(err);
        this.settled();
      },
    );
  }

  /** Bookkeeping after a store call ends; when none is left, recovers from failures and moves on. */
  private settled(): void {
    this.inFlight--;
    if (this.inFlight > 0) return;
    if (this.failedSinceIdle) {
      this.failedSinceIdle = false;
      this.frontier = this.committed.clone();
    }
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.queue.length > 0) this.drainSoon(0);
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private sign(tree: MerkleFrontier): StoredCheckpoint {
    return { size: tree.size, note: this.signer.sign({ origin: this.options.origin, size: tree.size, root: tree.root() }) };
  }

  private checkpointed(checkpoint: StoredCheckpoint): void {
    this.checkpointedSize = Math.max(this.checkpointedSize, checkpoint.size);
    this.lastCheckpointAt = Date.now();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (!this.anchor) return;
    try {
      this.anchor.publish(checkpoint);
    } catch (err) {
      this.options.onWarning(`checkpoint of size ${checkpoint.size} was stored but not anchored: ${(err as Error).message}`);
    }
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

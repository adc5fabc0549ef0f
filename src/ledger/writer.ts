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

/**
 * Group commit: records queue up and are sequenced, appended and (when due) checkpointed in one
 * store transaction per batch. Each `submit` resolves only after its batch is durable, so a
 * caller can await durability without paying one transaction per record.
 */
export class LogWriter {
  private queue: Pending[] = [];
  /** Cancels the scheduled drain, if one is scheduled; `waiting` says whether it is a delayed one. */
  private scheduled: { cancel: () => void; waiting: boolean } | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  /** Serialises every store write; the tree state below is only touched inside it. */
  private tail: Promise<void> = Promise.resolve();
  private lastCheckpointAt = 0;

  constructor(
    private readonly store: Store,
    private readonly signer: NoteSigner,
    private readonly anchor: Anchor | undefined,
    private readonly options: WriterOptions,
    private frontier: MerkleFrontier,
    private checkpointedSize: number,
  ) {}

  get size(): number {
    return this.frontier.size;
  }

  /** Size covered by the newest checkpoint. */
  get coveredSize(): number {
    return this.checkpointedSize;
  }

  submit(id: string, canonical: string, leafHash: Buffer): Promise<Receipt> {
    return new Promise<Receipt>((resolve, reject) => {
      this.queue.push({ id, canonical, leafHash, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.drainSoon(0);
      else this.drainSoon(this.options.maxWaitMs);
    });
  }

  /** Commits everything queued so far and checkpoints it. */
  async flush(): Promise<void> {
    this.cancelTimer();
    await this.exclusive(() => this.drain());
    await this.publishCheckpoint();
  }

  /** Publishes a checkpoint now if any record is not yet covered by one. */
  publishCheckpoint(): Promise<void> {
    return this.exclusive(async () => {
      if (this.frontier.size === this.checkpointedSize) return;
      const checkpoint = this.sign(this.frontier);
      await this.store.append([], checkpoint);
      this.checkpointed(checkpoint);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
  }

  /** The first record of a batch waits up to `delayMs` for company; a full batch goes at once. */
  private drainSoon(delayMs: number): void {
    if (this.scheduled && (delayMs > 0 || !this.scheduled.waiting)) return;
    this.cancelTimer();
    const run = () => {
      this.scheduled = undefined;
      void this.exclusive(() => this.drain());
    };
    if (delayMs > 0) {
      const timer = setTimeout(run, delayMs);
      this.scheduled = { cancel: () => clearTimeout(timer), waiting: true };
    } else {
      const immediate = setImmediate(run);
      this.scheduled = { cancel: () => clearImmediate(immediate), waiting: false };
    }
  }

  private cancelTimer(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      const next = this.frontier.clone();
      const entries: AppendEntry[] = batch.map((p) => {
        const entry = { index: next.size, id: p.id, canonical: p.canonical, leafHash: p.leafHash };
        next.append(p.leafHash);
        return entry;
      });
      const due = Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
      const checkpoint = due ? this.sign(next) : undefined;
      try {
        await this.store.append(entries, checkpoint);
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
        continue;
      }
      this.frontier = next;
      if (checkpoint) this.checkpointed(checkpoint);
      else this.scheduleCheckpoint();
      for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve({ index: (entries[i] as AppendEntry).index });
    }
  }

  private sign(tree: MerkleFrontier): StoredCheckpoint {
    return { size: tree.size, note: this.signer.sign({ origin: this.options.origin, size: tree.size, root: tree.root() }) };
  }

  private checkpointed(checkpoint: StoredCheckpoint): void {
    this.checkpointedSize = checkpoint.size;
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

import { Worker } from 'node:worker_threads';
import type { AppendEntry, StoredCheckpoint } from './store.js';

interface Reply {
  seq: number;
  ok: boolean;
  message?: string;
}

// From the TypeScript sources (tests) the worker is the .ts file, which Node runs by stripping types.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './sqlite-writer-worker.ts' : './sqlite-writer-worker.js', import.meta.url);

/**
 * The write side of a SQLite store, on its own thread. One batch is one message and one
 * transaction; the promise settles when the worker has committed (or rolled back) it.
 */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private seq = 0;
  private failure: Error | undefined;

  constructor(file: string) {
    this.worker = new Worker(WORKER_URL, { workerData: { file } });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited (code ${code})`)));
  }

  append(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    const leaves = new Uint8Array(entries.length * 32);
    entries.forEach((e, i) => leaves.set(e.leafHash, i * 32));
    return new Promise<void>((resolve, reject) => {
      // Keep the process alive only while a write is in flight, so a forgotten close() cannot hang it.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage(
        {
          seq,
          first: entries[0]?.index ?? 0,
          ids: entries.map((e) => e.id),
          envelopes: entries.map((e) => e.canonical),
          leaves,
          ...(checkpoint ? { checkpoint } : {}),
        },
        [leaves.buffer],
      );
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref();
    this.worker.postMessage('close');
    this.failure = new Error('the SQLite store is closed');
    await exited;
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.seq);
    if (!waiter) return;
    this.pending.delete(reply.seq);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve();
    else waiter.reject(new Error(reply.message));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}

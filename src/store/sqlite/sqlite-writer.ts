import { Worker } from 'node:worker_threads';
import { BLOCK_CALLS } from './sqlite-stats-blocks.js';
import type { Appended, AppendRequest, NewEntry } from '../store.js';

interface Reply {
  seq: number;
  ok: boolean;
  value?: unknown;
  message?: string;
}

/** Writes other than appends, as sqlite-writer-worker.ts takes them. */
export type WriteRequest =
  | { op: 'deleteContent'; subject?: string; before?: string; limit: number }
  | { op: 'addKey' | 'replaceKey'; subject: string; version: number; kekId: string; wrapped: Uint8Array }
  | { op: 'destroyKeys'; subject: string }
  | { op: 'prune'; below: number; limit: number };

// From the TypeScript sources (tests) the worker is the .ts file, which Node runs by stripping types.
const workerUrl = (name: string) => new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * How often the checkpointer copies the WAL back; the WAL length (4 KB frames, ~16 MB) at which the
 * writer starts it over, within how long of the start of the checkpointer's last pass (which bounds
 * what is left for the writer to copy).
 *
 * Each pass ends with an fdatasync of the database file, and the commits' WAL fsyncs wait behind it
 * on the disk. Every 100 ms, a pass wrote 3 MB at 11,000 records/s and took 7-11 ms to sync; the
 * commits during it took 3-7 ms instead of 1, and the records behind them p99 11.2-11.5 ms. Every
 * 25 ms the syncs are a quarter the size: p99 7.8-8.9 ms in the same runs, throughput unchanged.
 */
const CHECKPOINT_EVERY_MS = 25;
const RESTART_WAL_FRAMES = 4096;
const RESTART_WITHIN_MS = 25;

/**
 * The write side of a SQLite store, on its own thread. One batch is one message and one
 * transaction; the promise settles when the worker has committed (or rolled back) it. A second
 * thread keeps the WAL short (see sqlite-checkpointer-worker.ts).
 */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly checkpointer: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private seq = 0;
  private failure: Error | undefined;

  constructor(file: string, statsBlockCalls = BLOCK_CALLS) {
    // The checkpointer's passes, and of the last, the WAL's length (frames) and its start (ms): for
    // the writer; the writer's commits: for the checkpointer.
    const walProgress = new SharedArrayBuffer(4 * BigInt64Array.BYTES_PER_ELEMENT);
    this.worker = new Worker(workerUrl('sqlite-writer-worker'), {
      workerData: { file, statsBlockCalls, walProgress, restartFrames: RESTART_WAL_FRAMES, restartWithinMs: RESTART_WITHIN_MS },
    });
    this.worker.unref();
    this.checkpointer = new Worker(workerUrl('sqlite-checkpointer-worker'), {
      workerData: { file, intervalMs: CHECKPOINT_EVERY_MS, walProgress, restartFrames: RESTART_WAL_FRAMES },
    });
    this.checkpointer.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited (code ${code})`)));
  }

  /**
   * Not an async function, which would keep its arguments alive until it returns: the entries
   * (every record's text) would outlive the scavenges during the commit, and V8 would soon
   * allocate them in the old generation (see Ledger.submit). The worker sequences the batch in its
   * transaction with a Sequencer of its own, made from the same key (see sqlite-writer-worker.ts).
   */
  append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    try {
      return this.post(entries, request);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private post(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    const leaves = new Uint8Array(entries.length * 32);
    entries.forEach((e, i) => leaves.set(e.leafHash, i * 32));
    const { content, transfer } = contentRows(entries);
    const adopt = request.sequencer.takeAdoption();
    const message = {
      op: 'append',
      log: { signerKey: request.sequencer.signerKey, origin: request.sequencer.origin },
      ...(adopt ? { adopt } : {}),
      ids: entries.map((e) => e.id),
      envelopes: entries.map((e) => e.canonical),
      leaves,
      checkpoint: request.checkpoint === true,
      ...(request.raiseHorizon === undefined ? {} : { raiseHorizon: request.raiseHorizon }),
      ...(request.replayed ? { replayed: true } : {}),
      ...(content ? { content } : {}),
    };
    return this.send(message, [leaves.buffer, ...transfer]) as Promise<Appended>;
  }

  /** One write in its own transaction; resolves with what the worker answers. */
  request<T>(request: WriteRequest): Promise<T> {
    return this.send(request) as Promise<T>;
  }

  private send(message: object, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      // Keep the process alive only while a write is in flight, so a forgotten close() cannot hang it.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ seq, ...message }, transfer);
    });
  }

  async close(): Promise<void> {
    // The writer closes last: as the last connection, it checkpoints the WAL and removes it.
    await closeWorker(this.checkpointer);
    if (this.failure) return;
    this.failure = new Error('the SQLite store is closed');
    await closeWorker(this.worker);
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.seq);
    if (!waiter) return;
    this.pending.delete(reply.seq);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(reply.message));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}

async function closeWorker(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.ref();
  worker.postMessage('close');
  await exited;
}

/**
 * The batch's content as columns, each item pointing at its record's position in the batch.
 * The bytes travel in one transferred buffer: a ciphertext is a view on a shared pool buffer,
 * and posting views one by one copied the whole pool buffer for each.
 */
function contentRows(entries: readonly NewEntry[]): { content?: object; transfer: ArrayBuffer[] } {
  if (!entries.some((e) => e.content)) return { transfer: [] };
  const rows = { at: [] as number[], ts: [] as string[], mode: [] as string[], subject: [] as string[], ends: [] as number[], bytes: new Uint8Array(0) };
  let size = 0;
  for (const e of entries) for (const item of e.content?.items ?? []) size += item.data.length;
  rows.bytes = new Uint8Array(size);
  let offset = 0;
  entries.forEach((e, at) => {
    for (const item of e.content?.items ?? []) {
      rows.at.push(at);
      rows.ts.push(e.content!.ts);
      rows.mode.push(item.mode);
      rows.subject.push(item.subject);
      rows.bytes.set(item.data, offset);
      rows.ends.push((offset += item.data.length));
    }
  });
  return { content: rows, transfer: [rows.bytes.buffer] };
}

import { Worker } from 'node:worker_threads';
import type { LeafBatch } from '../leaf-scan.js';

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './sqlite-leaf-scan-worker.ts' : './sqlite-leaf-scan-worker.js', import.meta.url);

/**
 * Scans [0, lastIndex] in `ranges` worker threads, each reading and hashing its own part, and
 * yields their batches in index order: verify's cost is reading and hashing every row, and this
 * spreads it over the machine's cores.
 */
export async function* scanLeavesInParallel(
  file: string,
  lastIndex: number,
  ranges: number,
  batchSize: number,
  copies: { expression: string; join: string },
): AsyncIterable<LeafBatch> {
  const step = Math.ceil((lastIndex + 1) / ranges);
  const workers = Array.from({ length: ranges }, (_, i) => {
    const to = i === ranges - 1 ? Number.MAX_SAFE_INTEGER : (i + 1) * step;
    return new RangeReader(new Worker(WORKER_URL, { workerData: { file, from: i * step, to, batchSize, copies: copies.expression, join: copies.join } }));
  });
  try {
    for (const reader of workers) {
      for (let batch = await reader.next(); batch; batch = await reader.next()) yield batch;
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Buffers one worker's batches until they are asked for. */
class RangeReader {
  private batches: LeafBatch[] = [];
  private done = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: LeafBatch | 'done') => {
      if (m === 'done') this.done = true;
      else this.batches.push(m);
      this.wake?.();
    });
    worker.on('error', (err) => {
      this.failure = err;
      this.wake?.();
    });
    worker.on('exit', () => {
      this.done = true;
      this.wake?.();
    });
  }

  async next(): Promise<LeafBatch | undefined> {
    while (this.batches.length === 0 && !this.done && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
    return this.batches.shift();
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

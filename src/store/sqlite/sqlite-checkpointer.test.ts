import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import { openSqliteStore } from './sqlite-store.js';
import { entriesFor, testWriter } from '../test-support/conformance.js';

describe('the SQLite WAL under steady writes', () => {
  it('is started over again and again: the checkpointer thread copies it back while commits go on, the writer finishes the copy and starts it over', async () => {
    const file = join(tempDir(), 'ledger.db');
    const store = openSqliteStore(file);
    const writer = testWriter();
    const padding = 'p'.repeat(1500);
    let written = 0;
    let largestWal = 0;
    try {
      // Commits follow each other closely; the short pause only lets the checkpointer's thread be
      // scheduled at all when every core is busy (CI runs test files side by side on two cores).
      for (let batch = 0; batch < 40; batch++) {
        const entries = entriesFor(Array.from({ length: 1000 }, (_, i) => ({ model: 'm', metadata: { padding, n: batch * 1000 + i } })));
        expect((await writer.append(store, entries)).indexes[0]).toBe(batch * 1000);
        written += entries.reduce((n, e) => n + e.canonical.length, 0);
        largestWal = Math.max(largestWal, statSync(`${file}-wal`).size);
        await sleep(10);
      }
      expect(await store.size()).toBe(40_000);
    } finally {
      await store.close();
    }
    // Automatic checkpoints are off on the writer: without the checkpointer the WAL holds all of it
    // and more (1.5 times what was written, measured); with it, 0.1 to 0.5 times even on busy cores.
    expect(written).toBeGreaterThan(60_000_000);
    expect(largestWal).toBeLessThan(written * 0.75);
  });
});

describe('the checkpointer thread', () => {
  // Slots of the array it shares with the writer (sqlite-writer.ts): passes completed, WAL frames, pass start, commits.
  const PASSES = 0;
  const COMMITS = 3;

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (const started = Date.now(); !condition(); await sleep(5)) {
      if (Date.now() - started > 5000) throw new Error(`timed out waiting until ${what}`);
    }
  }

  it('copies the WAL back after the writer commits, at most once an interval, and sleeps while nothing is committed', async () => {
    const file = join(tempDir(), 'ledger.db');
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x TEXT)');
    const progress = new BigInt64Array(new SharedArrayBuffer(4 * BigInt64Array.BYTES_PER_ELEMENT));
    const commit = () => {
      db.exec(`INSERT INTO t VALUES ('${'x'.repeat(5000)}')`);
      Atomics.add(progress, COMMITS, 1n);
      Atomics.notify(progress, COMMITS);
    };
    const passes = () => Number(Atomics.load(progress, PASSES));
    const worker = new Worker(new URL('./sqlite-checkpointer-worker.ts', import.meta.url), {
      workerData: { file, intervalMs: 300, walProgress: progress.buffer, restartFrames: 4096 },
    });
    try {
      await until(() => passes() === 1, 'the first pass at start');
      await sleep(700);
      expect(passes()).toBe(1);

      commit();
      await until(() => passes() === 2, 'a pass after the commit');
      // Copied: the WAL's frames are all in the database file, so a checkpoint here finds nothing left.
      expect(db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get()).toMatchObject({ busy: 0 });
      commit();
      await sleep(100);
      expect(passes()).toBe(2);
      await until(() => passes() === 3, 'the next pass, one interval after the last');
      await sleep(700);
      expect(passes()).toBe(3);
    } finally {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
      db.close();
    }
  });
});

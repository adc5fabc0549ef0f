// Runs in a worker thread: copies the WAL back into the database file on its own connection, so
// no commit pays for that copy and its fsync. Left to SQLite's automatic checkpoint, one commit
// in every few thousand records did it inline and waited tens of milliseconds.
// Free of project imports, like the writer.
import { fdatasyncSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { setPriority } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs, walProgress, restartFrames } = workerData as { file: string; intervalMs: number; walProgress: SharedArrayBuffer; restartFrames: number };
// The layout sqlite-writer.ts gives `walProgress`: passes completed, and of the last, the WAL's
// length in frames and when it started (Date.now()).
const WAL_PASSES = 0;
const WAL_FRAMES = 1;
const PASS_STARTED = 2;
const progress = new BigInt64Array(walProgress);
lowerThisThreadsPriority();
const db = new DatabaseSync(file);
// PASSIVE never waits for the writer or readers: it copies what it can while commits go on. The
// writer learns from `progress` how long the WAL has grown and starts it over itself (see
// sqlite-writer-worker.ts), which no checkpoint on this connection can do without stopping it.
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const databasePath = realpathSync(file);
let databaseFd: number | undefined;

const timer = setInterval(() => {
  try {
    let started = Date.now();
    let { log } = copy.get() as { log: number };
    syncDatabaseFile();
    if (log >= restartFrames) {
      // The WAL is due to start over, which the writer does once it has copied what was written
      // since this pass began, holding commits back meanwhile. A second pass right away copies what
      // was written during the first, and leaves the writer a few milliseconds' worth of frames.
      started = Date.now();
      ({ log } = copy.get() as { log: number });
      syncDatabaseFile();
    }
    Atomics.store(progress, WAL_FRAMES, BigInt(log));
    Atomics.store(progress, PASS_STARTED, BigInt(started));
    Atomics.add(progress, WAL_PASSES, 1n);
  } catch {
    // Busy now (the file going away): the next pass tries again.
  }
}, intervalMs);

/**
 * A checkpoint that commits keep running behind never copies every frame, and SQLite syncs the
 * database file only after one that does: the writer's, when it starts the WAL over, which then
 * waited for everything the passes since the last restart had written (5-20 ms, growing with the
 * WAL). Synced here after each pass, the writer's sync has only its own few frames to wait for.
 * Through a descriptor SQLite opened, found in /proc/self/fd: closing one of our own would drop
 * every POSIX lock this process holds on the file, SQLite's included. Only an aid (the writer's
 * sync is what makes a restart safe), so where it cannot be done it is skipped.
 */
function syncDatabaseFile(): void {
  try {
    if (databaseFd === undefined || readlinkSync(`/proc/self/fd/${databaseFd}`) !== databasePath) {
      databaseFd = readdirSync('/proc/self/fd').map(Number).find((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === databasePath;
        } catch {
          return false;
        }
      });
    }
    if (databaseFd !== undefined) fdatasyncSync(databaseFd);
  } catch {
    // No /proc (not Linux), or the descriptor closed in between: the writer's restart syncs it all.
    databaseFd = undefined;
  }
}

/**
 * Copying the WAL back is background work: on two cores it must not take a core from the thread
 * that prepares records or from the writer while they have work. Linux lets one thread lower its
 * own priority (setpriority with the thread's id); elsewhere, or when not allowed, it stays as is.
 */
function lowerThisThreadsPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId)) setPriority(threadId, 10);
  } catch {
    // Not Linux, or not permitted: the checkpointer runs at the process's priority.
  }
}

parentPort!.on('message', (m: unknown) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});

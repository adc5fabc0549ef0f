// Runs in a worker thread: copies the WAL back into the database file on its own connection, so
// no commit pays for that copy and its fsync. Left to SQLite's automatic checkpoint, one commit
// in every few thousand records did it inline and waited tens of milliseconds.
// Free of project imports, like the writer.
import { fdatasyncSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { setPriority } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs, walProgress, restartFrames } = workerData as {
  file: string;
  intervalMs: number;
  walProgress: SharedArrayBuffer;
  restartFrames: number;
};
// The layout sqlite-writer.ts gives `walProgress`: passes completed, and of the last, the WAL's
// length in frames and when it started (Date.now()); and the writer's commits so far.
const WAL_PASSES = 0;
const WAL_FRAMES = 1;
const PASS_STARTED = 2;
const COMMITS = 3;
const progress = new BigInt64Array(walProgress);
lowerThisThreadsPriority();
const db = new DatabaseSync(file);
// PASSIVE never waits for the writer or readers: it copies what it can while commits go on. The
// writer learns from `progress` how long the WAL has grown and starts it over itself (see
// sqlite-writer-worker.ts), which no checkpoint on this connection can do without stopping it.
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const databasePath = realpathSync(file);
let databaseFd: number | undefined;
let closed = false;

/**
 * A pass at most every `intervalMs` while the writer commits, and none while it does not: a timer
 * that only found nothing to copy cost an idle ledger 2% of a core (a thread woken every 25 ms to
 * do nothing used 70-90 ms of CPU in 10 s on this project's virtual machines). So once a pass has
 * copied every frame, the thread sleeps until the writer counts its next commit (Atomics.notify).
 * Commits of other processes are not counted; they wait for this process's next one.
 */
async function copyWhileCommitting(): Promise<void> {
  let copiedAllOf: bigint | undefined;
  let lastPass = 0;
  while (!closed) {
    const commits = Atomics.load(progress, COMMITS);
    if (commits === copiedAllOf) {
      const waiting = Atomics.waitAsync(progress, COMMITS, commits);
      if (waiting.async) await waiting.value;
      continue;
    }
    const due = lastPass + intervalMs - Date.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    if (closed) return;
    lastPass = Date.now();
    copiedAllOf = pass() ? commits : undefined;
  }
}

/** One pass; true when it copied every frame of the WAL. */
function pass(): boolean {
  try {
    let started = Date.now();
    let { log, checkpointed } = copy.get() as { log: number; checkpointed: number };
    syncDatabaseFile();
    if (log >= restartFrames) {
      // The WAL is due to start over, which the writer does once it has copied what was written
      // since this pass began, holding commits back meanwhile. A second pass right away copies what
      // was written during the first, and leaves the writer a few milliseconds' worth of frames.
      started = Date.now();
      ({ log, checkpointed } = copy.get() as { log: number; checkpointed: number });
      syncDatabaseFile();
    }
    Atomics.store(progress, WAL_FRAMES, BigInt(log));
    Atomics.store(progress, PASS_STARTED, BigInt(started));
    Atomics.add(progress, WAL_PASSES, 1n);
    return checkpointed === log;
  } catch {
    // Busy now (the file going away): the next pass tries again.
    return false;
  }
}
void copyWhileCommitting();

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
      databaseFd = readdirSync('/proc/self/fd')
        .map(Number)
        .find((fd) => {
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
  closed = true;
  Atomics.notify(progress, COMMITS);
  db.close();
  parentPort!.close();
});

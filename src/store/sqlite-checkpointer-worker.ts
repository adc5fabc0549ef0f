// Runs in a worker thread: copies the WAL back into the database file on its own connection, so
// no commit pays for that copy and its fsync. Left to SQLite's automatic checkpoint, one commit
// in every few thousand records did it inline and waited tens of milliseconds.
// Free of project imports, like the writer.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs, restartFrames } = workerData as { file: string; intervalMs: number; restartFrames: number };
const db = new DatabaseSync(file);
// A FULL checkpoint that cannot get the write lock at once gives up until the next pass rather
// than hold up the writer while it waits for readers.
db.exec('PRAGMA busy_timeout = 20;');
// PASSIVE never waits for the writer or readers: it copies what it can while commits go on.
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
// SQLite starts the WAL over only once every frame is copied, which PASSIVE alone never achieves
// under steady writes. FULL holds commits back while it copies the few frames written since the
// PASSIVE pass just before it, then the next commit starts the WAL from the beginning.
const finish = db.prepare('PRAGMA wal_checkpoint(FULL)');

const timer = setInterval(() => {
  try {
    const { log } = copy.get() as { busy: number; log: number; checkpointed: number };
    if (log >= restartFrames) finish.get();
  } catch {
    // Busy now (a long read, the file going away): the next pass tries again.
  }
}, intervalMs);

parentPort!.on('message', (m: unknown) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});

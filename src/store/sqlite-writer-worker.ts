// Runs in a worker thread: SQLite's writes are synchronous, so they live off the thread that
// serves traffic and prepares records. Kept free of project imports so it runs from the
// TypeScript sources (tests) as well as from the build.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

interface AppendMessage {
  seq: number;
  first: number;
  ids: string[];
  envelopes: string[];
  leaves: Uint8Array;
  checkpoint?: { size: number; note: string };
}

const port = parentPort!;
const db = new DatabaseSync((workerData as { file: string }).file);
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
const insertRecord = db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)');
const insertLeaf = db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)');
const insertCheckpoint = db.prepare('INSERT INTO checkpoints (size, note) VALUES (?, ?)');
// A batch must start where the log ends: after a failed batch, the ones sent behind it are refused.
let size = ((db.prepare('SELECT max(idx) AS last FROM records').get() as { last: number | null }).last ?? -1) + 1;

port.on('message', (m: AppendMessage | 'close') => {
  if (m === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    if (m.ids.length > 0 && m.first !== size) throw new Error(`a batch starting at index ${m.first} cannot follow a log of size ${size}`);
    db.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 0; i < m.ids.length; i++) {
        insertRecord.run(m.first + i, m.ids[i]!, m.envelopes[i]!);
        insertLeaf.run(m.first + i, m.leaves.subarray(i * 32, i * 32 + 32));
      }
      if (m.checkpoint) insertCheckpoint.run(m.checkpoint.size, m.checkpoint.note);
      db.exec('COMMIT');
      size += m.ids.length;
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    port.postMessage({ seq: m.seq, ok: true });
  } catch (err) {
    port.postMessage({ seq: m.seq, ok: false, message: (err as Error).message });
  }
});

// Runs in a worker thread: reads and hashes one index range of a SQLite ledger for verify, so
// that ranges are read and hashed on several cores. Free of project imports (see the writer),
// so it repeats the little it needs of leaf-scan.ts.
import { hash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, from, to, batchSize } = workerData as { file: string; from: number; to: number; batchSize: number };
const db = new DatabaseSync(file, { readOnly: true });
const stmt = db.prepare(
  "SELECT r.idx, X'00' || CAST(r.envelope AS BLOB), l.hash FROM records r LEFT JOIN leaves l ON l.idx = r.idx WHERE r.idx >= ? AND r.idx < ? ORDER BY r.idx",
);
stmt.setReturnArrays(true);

let indexes: number[] = [];
let leaves = new Uint8Array(batchSize * 32);
let committed = new Uint8Array(batchSize);
const send = () => {
  const n = indexes.length;
  parentPort!.postMessage({ indexes, leaves: leaves.subarray(0, n * 32), committed: committed.subarray(0, n) }, [leaves.buffer, committed.buffer]);
  indexes = [];
  leaves = new Uint8Array(batchSize * 32);
  committed = new Uint8Array(batchSize);
};
for (const [index, leafInput, committedLeaf] of stmt.iterate(from, to) as unknown as Iterable<[number, Uint8Array, Uint8Array | null]>) {
  const n = indexes.length;
  const leaf = hash('sha256', leafInput, 'buffer');
  indexes.push(index);
  leaves.set(leaf, n * 32);
  // 0: matches the committed leaf, 1: differs, 2: no leaf committed for this index (LEAF_* in leaf-scan.ts).
  committed[n] = !committedLeaf ? 2 : Buffer.compare(leaf, committedLeaf) === 0 ? 0 : 1;
  if (n + 1 === batchSize) send();
}
if (indexes.length > 0) send();
db.close();
parentPort!.postMessage('done');

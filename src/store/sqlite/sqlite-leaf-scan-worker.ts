// Runs in a worker thread: reads and hashes one index range of a SQLite ledger for verify, so
// that ranges are read and hashed on several cores. Free of project imports (see the writer),
// so it repeats the little it needs of leaf-scan.ts.
import { hash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

// `copies`: the SQL expression saying which copies beside a record disagree with it (copiesExpression in leaf-scan.ts), over `records r`, with `join`.
const { file, from, to, batchSize, copies, join } = workerData as { file: string; from: number; to: number; batchSize: number; copies: string; join: string };
// A busy timeout, as every other connection has: with no other connection open, the scan's workers
// open the file at once and one may find another rebuilding the WAL index (SQLITE_BUSY_RECOVERY).
const db = new DatabaseSync(file, { readOnly: true, timeout: 5000 });
// Memory-mapped reads skip a copy per page: the scan reads every page of the range once.
db.exec('PRAGMA mmap_size = 2147418112');
// Two ordered cursors merged here cost less than a join, which searches the leaves per row.
const rows = db.prepare(`SELECT r.idx, X'00' || CAST(r.envelope AS BLOB), ${copies} FROM records r ${join} WHERE r.idx >= ? AND r.idx < ? ORDER BY r.idx`);
// The committed leaves as hex text, compared with the recomputed leaf's hex: node:sqlite allocates
// each BLOB natively, and reading the leaves as BLOBs took 2.6 times as long as reading them as hex.
const committedLeaves = db.prepare('SELECT idx, lower(hex(hash)) FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx');
rows.setReturnArrays(true);
committedLeaves.setReturnArrays(true);

let indexes: number[] = [];
let leaves = Buffer.alloc(batchSize * 32);
let committed = new Uint8Array(batchSize);
const send = () => {
  const n = indexes.length;
  parentPort!.postMessage({ indexes, leaves: new Uint8Array(leaves.buffer, 0, n * 32), committed: committed.subarray(0, n) }, [
    leaves.buffer,
    committed.buffer,
  ]);
  indexes = [];
  leaves = Buffer.alloc(batchSize * 32);
  committed = new Uint8Array(batchSize);
};
const leafCursor = committedLeaves.iterate(from, to) as unknown as Iterator<[number, string | null]>;
let nextLeaf = leafCursor.next();
for (const [index, leafInput, copiesDiffer] of rows.iterate(from, to) as unknown as Iterable<[number, Uint8Array, number]>) {
  while (!nextLeaf.done && nextLeaf.value[0] < index) nextLeaf = leafCursor.next();
  const committedLeaf = !nextLeaf.done && nextLeaf.value[0] === index ? nextLeaf.value[1] : null;
  const n = indexes.length;
  // As hex text, for the same reason as the committed leaves (a Buffer from node:crypto is a native allocation too).
  const leaf = hash('sha256', leafInput, 'hex');
  indexes.push(index);
  leaves.write(leaf, n * 32, 'hex');
  // 0: matches the committed leaf, 1: differs, 2: no leaf committed for this index; matches, but 3: the id column differs, 4: the stats copy differs (LEAF_* in leaf-scan.ts).
  committed[n] = committedLeaf === null ? 2 : leaf !== committedLeaf ? 1 : copiesDiffer & 1 ? 3 : copiesDiffer & 2 ? 4 : 0;
  if (n + 1 === batchSize) send();
}
if (indexes.length > 0) send();
db.close();
parentPort!.postMessage('done');

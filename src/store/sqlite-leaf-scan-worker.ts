// Runs in a worker thread: reads and hashes one index range of a SQLite ledger for verify, so
// that ranges are read and hashed on several cores. Free of project imports (see the writer),
// so it repeats the little it needs of leaf-scan.ts.
import { hash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, from, to, batchSize } = workerData as { file: string; from: number; to: number; batchSize: number };
const db = new DatabaseSync(file, { readOnly: true });
// Memory-mapped reads skip a copy per page: the scan reads every page of the range once.
db.exec('PRAGMA mmap_size = 2147418112');
// Two ordered cursors merged here cost less than a join, which searches the leaves per row.
// The id column is a copy for lookups: compared with the envelope's own id where the envelope is JSON (about 1 us a row; a row that is not JSON differs from its leaf anyway).
const rows = db.prepare("SELECT idx, X'00' || CAST(envelope AS BLOB), iif(json_valid(envelope), id IS NOT envelope ->> '$.id', 0) FROM records WHERE idx >= ? AND idx < ? ORDER BY idx");
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
  parentPort!.postMessage({ indexes, leaves: new Uint8Array(leaves.buffer, 0, n * 32), committed: committed.subarray(0, n) }, [leaves.buffer, committed.buffer]);
  indexes = [];
  leaves = Buffer.alloc(batchSize * 32);
  committed = new Uint8Array(batchSize);
};
const leafCursor = (committedLeaves.iterate(from, to) as unknown as Iterator<[number, string | null]>);
let nextLeaf = leafCursor.next();
for (const [index, leafInput, idDiffers] of rows.iterate(from, to) as unknown as Iterable<[number, Uint8Array, number]>) {
  while (!nextLeaf.done && nextLeaf.value[0] < index) nextLeaf = leafCursor.next();
  const committedLeaf = !nextLeaf.done && nextLeaf.value[0] === index ? nextLeaf.value[1] : null;
  const n = indexes.length;
  // As hex text, for the same reason as the committed leaves (a Buffer from node:crypto is a native allocation too).
  const leaf = hash('sha256', leafInput, 'hex');
  indexes.push(index);
  leaves.write(leaf, n * 32, 'hex');
  // 0: matches the committed leaf, 1: differs, 2: no leaf committed for this index, 3: matches, but the id column differs (LEAF_* in leaf-scan.ts).
  committed[n] = committedLeaf === null ? 2 : leaf !== committedLeaf ? 1 : idDiffers ? 3 : 0;
  if (n + 1 === batchSize) send();
}
if (indexes.length > 0) send();
db.close();
parentPort!.postMessage('done');

/**
 * The tamper suite on SQLite: every kind of mutation someone with write access to the file could
 * make, each applied to a fresh copy of one ledger written through the API (see LAYOUT), and what
 * `verify` must report for it. The tables below are the specification of what llm-ledger detects.
 */
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHashOfText } from '../log/merkle.js';
import type { Ledger } from './ledger.js';
import { LedgerIntegrityError } from './errors.js';
import { openLedger } from './open-ledger.js';
import { sampleCall, tempDir } from './test-support/fixtures.js';
import {
  cliVerify,
  corruptSignature,
  describeSharedRows,
  editModel,
  flipBit,
  forgedEntry,
  forgedRetention,
  LAYOUT,
  signedByAnotherKey,
  summary,
  writeLayout,
  type Limit,
  type Mutation,
  type OpenFailure,
  type WriterRefusal,
} from './test-support/tamper-mutations.js';

const CONFIG = `store:
  type: sqlite
  path: ./ledger.db
log:
  signing_key_file: ./signing.key
  checkpoint_interval_ms: 3600000
  anchor:
    path: ./anchor
digest:
  key_file: ./digest.key
`;

/** A copy of the golden ledger: its directory (ledger.db, keys, anchor, llm-ledger.yaml, and the older copies of the file). */
interface Copy {
  dir: string;
  file: string;
}

/** Notes kept while the layout was written: the heads of the older copies. */
const kept: { head8: string; head13: string } = { head8: '', head13: '' };
let golden = '';
const made: string[] = [];

function copyOfGolden(): Copy {
  const dir = tempDir('llm-ledger-tamper-sqlite-');
  made.push(dir);
  cpSync(golden, dir, { recursive: true });
  return { dir, file: join(dir, 'ledger.db') };
}

const config = (c: Copy) => join(c.dir, 'llm-ledger.yaml');
const quiet = { onWarning: () => undefined };

/** verify as an auditor runs it: read-only, so the check itself never signs or appends anything. */
async function verifyCopy(c: Copy) {
  const ledger = await openLedger(config(c), { ...quiet, readOnly: true });
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

/**
 * A connection as an attacker with write access to the file: the triggers that refuse updates
 * and deletes are dropped (they guard against mistakes, not against the file's owner). The
 * triggers that keep call_stats in step with the records stay, as a careful attacker would leave them.
 */
function tamper(c: Copy, work: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(c.file);
  try {
    const guards = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE '%\\_no\\_%' ESCAPE '\\' OR name LIKE '%forward\\_only' ESCAPE '\\')")
      .all() as { name: string }[];
    for (const { name } of guards) db.exec(`DROP TRIGGER "${name}"`);
    work(db);
  } finally {
    db.close();
  }
}

const sql =
  (text: string, ...params: SQLInputValue[]) =>
  (c: Copy) =>
    tamper(c, (db) => (params.length ? db.prepare(text).run(...params) : db.exec(text)));

function envelopeAt(db: DatabaseSync, idx: number): string {
  return (db.prepare('SELECT envelope FROM records WHERE idx = ?').get(idx) as { envelope: string }).envelope;
}

/** Rewrites the envelope text at `idx`; with `leaf`, its committed leaf too, consistently (only a signed note can tell). */
function rewrite(idx: number, edit: (text: string) => string, options: { leaf?: boolean } = {}) {
  return (c: Copy) =>
    tamper(c, (db) => {
      const text = edit(envelopeAt(db, idx));
      db.prepare('UPDATE records SET envelope = ? WHERE idx = ?').run(text, idx);
      if (options.leaf) db.prepare('UPDATE leaves SET hash = ? WHERE idx = ?').run(leafHashOfText(text), idx);
    });
}

/**
 * Overwrites the bytes of the envelope at `idx` in the file itself, as a hex editor (or a failing
 * disk) would, keeping their length. SQL cannot store text that is not JSON there: SQLite computes
 * the generated columns of every row it writes, and their JSON operators refuse it.
 */
function editFileBytes(idx: number, edit: (text: Buffer) => Buffer) {
  return (c: Copy) => {
    const db = new DatabaseSync(c.file, { readOnly: true });
    const text = Buffer.from(envelopeAt(db, idx), 'utf8');
    db.close();
    const file = readFileSync(c.file);
    const at = file.indexOf(text);
    expect(at).toBeGreaterThan(0);
    expect(file.indexOf(text, at + 1)).toBe(-1);
    const edited = edit(Buffer.from(text));
    expect(edited.length).toBe(text.length);
    edited.copy(file, at);
    writeFileSync(c.file, file);
  };
}

/** Appends a row and its correct leaf after the last one: inserts, which no trigger refuses. */
function appendForeign(entry: { id: string; canonical: string }) {
  return (c: Copy) => {
    const db = new DatabaseSync(c.file);
    try {
      db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)').run(LAYOUT.size, entry.id, entry.canonical);
      db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)').run(LAYOUT.size, leafHashOfText(entry.canonical));
    } finally {
      db.close();
    }
  };
}

/** Replaces the file with a copy taken earlier (its WAL state was folded in by VACUUM INTO). */
const restore = (name: 'older.db' | 'backup.db' | 'recent.db') => (c: Copy) => copyFileSync(join(c.dir, name), c.file);

const noteOf = (db: DatabaseSync, size: number) => (db.prepare('SELECT note FROM checkpoints WHERE size = ?').get(size) as { note: string }).note;
const headNote = (db: DatabaseSync) => (db.prepare('SELECT note FROM head').get() as { note: string }).note;

/**
 * Finding: an envelope whose bytes are not JSON makes verify throw "malformed JSON" instead of
 * reporting the record as changed at its index: checkSqliteStatsCopies (run by verify after the
 * scan) reads the generated `kind` column of every row, and SQLite's JSON operators raise an
 * error on such text. The CLI then exits 3 ("could not be opened or read"), not 1 with the index.
 * (The scan itself tolerates such rows since e78fe1a.)
 */
const MUTATIONS: Mutation<Copy>[] = [
  // The records themselves.
  { name: 'edit a field', does: 'changes the model of record 3', expect: { firstBad: 3, problems: ['changed@3'] }, cli: true, apply: rewrite(3, editModel) },
  {
    name: 'bit flip in an envelope',
    does: 'flips one bit of record 9 (a letter of its model)',
    expect: { firstBad: 9, problems: ['changed@9'] },
    apply: rewrite(9, flipBit),
  },
  {
    name: "truncate an envelope's text",
    does: 'cuts record 5 in the middle: its second half overwritten with blanks in the file (not JSON any more)',
    expect: { firstBad: 5, problems: ['changed@5'] },
    cli: true,
    apply: editFileBytes(5, (t) => t.fill(' ', Math.floor(t.length / 2))),
  },
  {
    name: 'replace an envelope with non-JSON',
    does: 'overwrites record 7 with text that is not JSON, in the file',
    expect: { firstBad: 7, problems: ['changed@7'] },
    apply: editFileBytes(7, (t) => t.fill('this is not a record. ')),
  },
  {
    name: 'delete one row',
    does: 'deletes record 4 (its leaf stays)',
    expect: { firstBad: 4, problems: ['missing@4'] },
    cli: true,
    apply: sql('DELETE FROM records WHERE idx = 4'),
  },
  {
    name: 'delete a range',
    does: 'deletes records 6..9',
    expect: { firstBad: 6, problems: ['missing@6'] },
    apply: sql('DELETE FROM records WHERE idx BETWEEN 6 AND 9'),
  },
  {
    name: 'delete the newest row with its leaf',
    does: 'deletes record 15 and leaf 15 (the signed head still covers 16)',
    expect: { firstBad: 15, problems: ['truncated@15'] },
    apply: sql('DELETE FROM records WHERE idx = 15; DELETE FROM leaves WHERE idx = 15'),
  },
  {
    name: 'truncate the tail consistently',
    does: 'cuts records and leaves back to 8, drops checkpoint 10 and puts back the signed head of size 8 (from an older copy)',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: (c) =>
      tamper(c, (db) => {
        db.exec('DELETE FROM records WHERE idx >= 8; DELETE FROM leaves WHERE idx >= 8; DELETE FROM checkpoints WHERE size > 8;');
        db.prepare('UPDATE head SET size = 8, note = ?').run(kept.head8);
      }),
  },
  {
    name: 'insert a forged row in the middle',
    does: 'moves records 5..15 (and their call_stats rows) up by one and writes a forged call at 5 (leaves untouched)',
    expect: { firstBad: 5, problems: ['changed@5', 'unsealed@16'] },
    apply: (c) =>
      tamper(c, (db) => {
        for (const table of ['records', 'call_stats'])
          db.exec(`UPDATE ${table} SET idx = -idx - 1 WHERE idx >= 5; UPDATE ${table} SET idx = -idx WHERE idx < 0;`);
        const forged = forgedEntry(sampleCall(500));
        db.prepare('INSERT INTO records (idx, id, envelope) VALUES (5, ?, ?)').run(forged.id, forged.canonical);
      }),
  },
  {
    name: 'insert a forged row at the tail with a correct leaf',
    does: 'appends a well-formed call at 16 with its correct leaf hash: plain inserts, no trigger dropped',
    expect: { firstBad: 16, problems: ['unsealed@16'] },
    cli: true,
    apply: appendForeign(forgedEntry(sampleCall(501))),
  },
  {
    name: 'duplicate a row',
    does: 'moves records 4..15 (and their call_stats rows) up by one and writes a copy of record 3 at 4 (same envelope; the id column needs another value)',
    expect: { firstBad: 4, problems: ['changed@4'] },
    apply: (c) =>
      tamper(c, (db) => {
        for (const table of ['records', 'call_stats'])
          db.exec(`UPDATE ${table} SET idx = -idx - 1 WHERE idx >= 4; UPDATE ${table} SET idx = -idx WHERE idx < 0;`);
        db.exec("INSERT INTO records (idx, id, envelope) SELECT 4, id || '-copy', envelope FROM records WHERE idx = 3");
      }),
  },
  {
    name: "swap two rows' envelopes",
    does: 'exchanges the envelopes of records 3 and 11 (indexes and ids stay)',
    expect: { firstBad: 3, problems: ['changed@3', 'changed@11'] },
    apply: (c) =>
      tamper(c, (db) => {
        const [a, b] = [envelopeAt(db, 3), envelopeAt(db, 11)];
        db.prepare('UPDATE records SET envelope = ? WHERE idx = 3').run(b);
        db.prepare('UPDATE records SET envelope = ? WHERE idx = 11').run(a);
      }),
  },
  {
    name: "swap two rows' indexes, records and leaves",
    does: 'exchanges records 6 and 9 together with their leaves: every row matches its leaf, the order does not',
    expect: { within: [5, 6], problems: ['fork'] },
    cli: true,
    apply: sql(
      `UPDATE records SET idx = -1 WHERE idx = 6; UPDATE records SET idx = 6 WHERE idx = 9; UPDATE records SET idx = 9 WHERE idx = -1;
       UPDATE leaves SET idx = -1 WHERE idx = 6; UPDATE leaves SET idx = 6 WHERE idx = 9; UPDATE leaves SET idx = 9 WHERE idx = -1;`,
    ),
  },
  {
    name: 'swap the records.id column',
    does: 'exchanges the id column (what lookups by id use) of records 3 and 12; envelopes and leaves untouched',
    expect: { firstBad: 3, problems: ['changed@3', 'changed@12'] },
    cli: true,
    apply: (c) =>
      tamper(c, (db) => {
        const id = (idx: number) => (db.prepare('SELECT id FROM records WHERE idx = ?').get(idx) as { id: string }).id;
        const [a, b] = [id(3), id(12)];
        db.prepare("UPDATE records SET id = 'swapping' WHERE idx = 3").run();
        db.prepare('UPDATE records SET id = ? WHERE idx = 12').run(a);
        db.prepare('UPDATE records SET id = ? WHERE idx = 3').run(b);
      }),
  },
  {
    name: 'consistent rewrite under an anchored checkpoint',
    does: 'changes record 7 and rewrites leaf 7 to match: only checkpoint 10 (stored and anchored) can tell',
    expect: { within: [5, 7], problems: ['fork'] },
    cli: true,
    apply: rewrite(7, editModel, { leaf: true }),
  },
  {
    name: 'consistent rewrite under the signed head only',
    does: 'changes record 12 and rewrites leaf 12 to match: only the signed head (16) can tell',
    expect: { within: [10, 12], problems: ['root-mismatch'] },
    apply: rewrite(12, editModel, { leaf: true }),
  },

  // The leaves.
  {
    name: 'leaf bit flip',
    does: 'flips one bit of leaf 9',
    expect: { firstBad: 9, problems: ['changed@9'] },
    apply: (c) =>
      tamper(c, (db) => {
        const hash = Buffer.from((db.prepare('SELECT hash FROM leaves WHERE idx = 9').get() as { hash: Uint8Array }).hash);
        hash[0]! ^= 1;
        db.prepare('UPDATE leaves SET hash = ? WHERE idx = 9').run(hash);
      }),
  },
  {
    name: 'delete a leaf',
    does: 'deletes leaf 4 (record 4 stays)',
    expect: { firstBad: 4, problems: ['changed@4'] },
    apply: sql('DELETE FROM leaves WHERE idx = 4'),
  },
  {
    name: 'orphan leaf at the tail',
    does: 'adds a leaf at 16 with no record (an insert)',
    expect: { firstBad: 16, problems: ['truncated@16'] },
    apply: (c) => {
      const db = new DatabaseSync(c.file);
      db.prepare('INSERT INTO leaves (idx, hash) VALUES (16, randomblob(32))').run();
      db.close();
    },
  },

  // Checkpoints and the signed head.
  {
    name: 'edit the size column of the newest checkpoint',
    does: 'stores checkpoint 10 with size 9 (its note unchanged)',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 9 but its signed note says 10/ },
    cli: true,
    apply: sql('UPDATE checkpoints SET size = 9 WHERE size = 10'),
  },
  {
    name: "corrupt a checkpoint's signature",
    does: 'changes one character of the signature of checkpoint 5',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: (c) => tamper(c, (db) => db.prepare('UPDATE checkpoints SET note = ? WHERE size = 5').run(corruptSignature(noteOf(db, 5)))),
  },
  {
    name: "replace the newest checkpoint's note with an older one",
    does: 'stores the note of checkpoint 5 in the row of checkpoint 10',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 10 but its signed note says 5/ },
    apply: sql('UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE size = 5) WHERE size = 10'),
  },
  {
    name: 'insert a checkpoint signed by another key',
    does: 'adds a checkpoint of size 16 with the right root, signed by a key that is not the ledger’s',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: (c) => {
      const db = new DatabaseSync(c.file);
      db.prepare('INSERT INTO checkpoints (size, note) VALUES (16, ?)').run(signedByAnotherKey(headNote(db)));
      db.close();
    },
  },
  {
    name: 'delete all stored checkpoints and the head',
    does: 'empties the checkpoints and head tables: only the anchor (5, 10) is left',
    expect: { firstBad: 10, problems: ['unsealed@10', 'bad-checkpoint'] },
    cli: true,
    apply: sql('DELETE FROM checkpoints; DELETE FROM head;'),
  },
  { name: 'delete the signed head', does: 'empties the head table', expect: { firstBad: 10, problems: ['unsealed@10'] }, apply: sql('DELETE FROM head') },
  {
    name: "corrupt the head's signature",
    does: 'changes one character of the signature of the head',
    expect: { firstBad: 10, problems: ['bad-checkpoint', 'unsealed@10'] },
    apply: (c) => tamper(c, (db) => db.prepare('UPDATE head SET note = ?').run(corruptSignature(headNote(db)))),
  },
  {
    name: 'replay an older signed head',
    does: 'puts back the head of size 13 (a valid note, signed before the last batch)',
    expect: { firstBad: 13, problems: ['unsealed@13'] },
    apply: (c) => tamper(c, (db) => db.prepare('UPDATE head SET size = 13, note = ?').run(kept.head13)),
  },

  // Retention.
  {
    name: 'forged retention record in storage',
    does: 'deletes records 3..5 and appends a retention record (correct leaf) stating envelopes below 100 were pruned',
    // The retention record excuses nothing: verify takes the horizon only from signed notes.
    expect: { firstBad: 3, problems: ['missing@3', 'fork@3'] },
    cli: true,
    apply: (c) => {
      sql('DELETE FROM records WHERE idx BETWEEN 3 AND 5')(c);
      appendForeign(forgedRetention(100))(c);
    },
  },
  {
    name: 'raise the pruned horizon table and delete below it',
    does: 'inserts 6 into pruned (its trigger allows a rise) and deletes records 0..5, which the delete trigger then allows',
    expect: { firstBad: 0, problems: ['missing@0'] },
    apply: (c) => {
      const db = new DatabaseSync(c.file);
      db.exec('INSERT INTO pruned (below) VALUES (6); DELETE FROM records WHERE idx < 6;');
      db.close();
    },
  },

  // Rollback.
  {
    name: 'rollback to an older copy of the file',
    does: 'replaces the file by the copy taken at 8 records (its own head of 8 included); the anchor has checkpoint 10',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: restore('older.db'),
  },

  // Copies that stats read (derived data): verify reports them, without an index.
  {
    name: 'edit a cost in call_stats',
    does: 'sets cost_usd of call 3 to 0 in call_stats (the envelope keeps its cost)',
    expect: { firstBad: null, problems: ['derived'], message: /call_stats disagrees with the llm.call records at index 3/ },
    cli: true,
    apply: sql('UPDATE call_stats SET cost_usd = 0 WHERE idx = 3'),
  },
  {
    name: 'edit a model in call_stats',
    does: "sets the model of call 4 to 'free-model' in call_stats",
    expect: { firstBad: null, problems: ['derived'], message: /at index 4/ },
    apply: sql("UPDATE call_stats SET model = 'free-model' WHERE idx = 4"),
  },
  {
    name: 'delete a call_stats row',
    does: 'deletes the call_stats row of call 5',
    expect: { firstBad: null, problems: ['derived'], message: /at index 5/ },
    apply: sql('DELETE FROM call_stats WHERE idx = 5'),
  },
];

const REFUSALS: WriterRefusal<Copy>[] = [
  {
    name: 'rollback to an older copy, then reopen and append',
    does: 'restores the copy of 8 records and opens it for writing',
    refusal: /holds 8 records but its anchor .* has a signed checkpoint of 10: the records from index 8 are gone/,
    thenVerify: { firstBad: 8, problems: ['truncated@8'] },
    apply: restore('older.db'),
  },
  {
    name: 'restore a backup, then append',
    does: 'restores the backup of 5 records and opens it for writing',
    refusal: /holds 5 records but its anchor .* has a signed checkpoint of 10: the records from index 5 are gone/,
    thenVerify: { firstBad: 5, problems: ['truncated@5'] },
    apply: restore('backup.db'),
  },
  {
    name: 'a foreign row at the tail, then append',
    does: 'appends a call with its correct leaf at 16, and opens the file for writing',
    refusal: /records from index 16 to 16 that no signed head or checkpoint covers/,
    thenVerify: { firstBad: 16, problems: ['unsealed@16'] },
    apply: appendForeign(forgedEntry(sampleCall(502))),
  },
  {
    name: 'a consistent rewrite, then append',
    does: 'changes record 12 and its leaf consistently, and opens the file for writing',
    refusal: /does not match its signed head \(size 16\)/,
    thenVerify: { within: [10, 12], problems: ['root-mismatch'] },
    apply: rewrite(12, editModel, { leaf: true }),
  },
];

const LIMITS: Limit<Copy>[] = [
  {
    name: 'rollback to a copy taken after the newest anchored checkpoint',
    does: 'replaces the file by the copy taken at 13 records (its head of 13 and checkpoints 5 and 10 included)',
    why: 'the anchor receives checkpoints only (every log.checkpoint_interval_ms; the newest here is 10); records 10..15 were covered by the signed head alone, which lives in the file that was rolled back. The loss is bounded by the checkpoint interval.',
    apply: restore('recent.db'),
  },
];

const OPEN_FAILURES: OpenFailure<Copy>[] = [];

beforeAll(async () => {
  const live = tempDir('llm-ledger-tamper-sqlite-live-');
  golden = tempDir('llm-ledger-tamper-sqlite-golden-');
  made.push(live, golden);
  writeFileSync(join(live, 'llm-ledger.yaml'), CONFIG);
  const ledger: Ledger = await openLedger(join(live, 'llm-ledger.yaml'), quiet);
  const reader = () => new DatabaseSync(join(live, 'ledger.db'), { readOnly: true });
  // VACUUM INTO copies what is committed, WAL included, while the writer thread keeps the file open.
  const snapshot = (name: string) => {
    const db = reader();
    db.exec(`VACUUM INTO '${join(golden, name)}'`);
    db.close();
  };
  try {
    await writeLayout(ledger, (stage) => {
      if (stage === 'backup') snapshot('backup.db');
      if (stage === 'older') {
        snapshot('older.db');
        const db = reader();
        kept.head8 = headNote(db);
        db.close();
      }
      if (stage === 'recent') {
        snapshot('recent.db');
        const db = reader();
        kept.head13 = headNote(db);
        db.close();
      }
      if (stage === 'final') {
        snapshot('ledger.db');
        // The anchor as it stood: closing the ledger below signs (and anchors) a checkpoint over the tail.
        cpSync(join(live, 'anchor'), join(golden, 'anchor'), { recursive: true });
        for (const name of ['signing.key', 'digest.key', 'llm-ledger.yaml']) copyFileSync(join(live, name), join(golden, name));
      }
    });
  } finally {
    await ledger.close();
  }
});

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  console.log(summary('SQLite', { mutations: MUTATIONS, refusals: REFUSALS, limits: LIMITS, openFailures: OPEN_FAILURES, apiRefusals: 1 }));
});

describe('the SQLite tamper suite', () => {
  it('starts from the layout: 16 records, checkpoints 5 and 10 stored and anchored, the signed head at 16', async () => {
    const c = copyOfGolden();
    const db = new DatabaseSync(c.file, { readOnly: true });
    expect((db.prepare('SELECT size FROM checkpoints ORDER BY seq').all() as { size: number }[]).map((r) => r.size)).toEqual([...LAYOUT.checkpoints]);
    expect((db.prepare('SELECT size FROM head').get() as { size: number }).size).toBe(LAYOUT.head);
    db.close();
    const report = await verifyCopy(c);
    expect(report).toMatchObject({
      ok: true,
      size: LAYOUT.size,
      problems: [],
      checkpointsChecked: 2,
      anchoredCheckpointsChecked: 2,
      coveredBySignature: 16,
      coveredByAnchor: 10,
    });
    expect(await cliVerify(c.dir)).toMatchObject({ code: 0, report: { ok: true } });
  });

  it('covers at least 30 kinds of mutation', () => {
    // The rows below, and the forged retention record the API refuses.
    expect(MUTATIONS.length + REFUSALS.length + LIMITS.length + OPEN_FAILURES.length + 1).toBeGreaterThanOrEqual(30);
  });

  describeSharedRows({ copy: copyOfGolden, verify: verifyCopy }, { mutations: MUTATIONS, refusals: REFUSALS, limits: LIMITS });

  it('a lookup by an id whose column was swapped throws LedgerIntegrityError instead of returning the other record', async () => {
    const c = copyOfGolden();
    const db = new DatabaseSync(c.file, { readOnly: true });
    const id3 = (db.prepare('SELECT id FROM records WHERE idx = 3').get() as { id: string }).id;
    db.close();
    await MUTATIONS.find((m) => m.name === 'swap the records.id column')!.apply(c);
    const ledger = await openLedger(config(c), { ...quiet, readOnly: true });
    try {
      await expect(ledger.get(id3)).rejects.toBeInstanceOf(LedgerIntegrityError);
    } finally {
      await ledger.close();
    }
  });
});

/**
 * The tamper suite on a JSONL ledger: what someone with a text editor (or any write access to the
 * directory) could do to its files, each applied to a fresh copy of one ledger written through
 * the API (see LAYOUT), and what `verify` must report for it. The tables below are the
 * specification of what llm-ledger detects in plain files.
 */
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHashOfText } from '../log/merkle.js';
import type { Ledger } from './ledger.js';
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
  type: jsonl
  path: ./jsonl
log:
  signing_key_file: ./signing.key
  checkpoint_interval_ms: 3600000
  anchor:
    path: ./anchor
digest:
  key_file: ./digest.key
`;

/** A copy of the golden ledger: its directory (jsonl/, keys, anchor, llm-ledger.yaml, and older copies of jsonl/). */
interface Copy {
  dir: string;
  /** The store's directory: audit_YYYYMMDD.jsonl, leaves.bin, checkpoints.jsonl, head.json. */
  files: string;
}

const kept: { head8: string; head13: string } = { head8: '', head13: '' };
let golden = '';
const made: string[] = [];

function copyOfGolden(): Copy {
  const dir = tempDir('llm-ledger-tamper-jsonl-');
  made.push(dir);
  cpSync(golden, dir, { recursive: true });
  return { dir, files: join(dir, 'jsonl') };
}

const config = (c: Copy) => join(c.dir, 'llm-ledger.yaml');
const quiet = { onWarning: () => undefined };

async function verifyCopy(c: Copy) {
  const ledger = await openLedger(config(c), { ...quiet, readOnly: true });
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

const dayFiles = (c: Copy) =>
  readdirSync(c.files)
    .filter((n) => /^audit_\d{8}(_\d{3})?\.jsonl$/.test(n))
    .sort();

/**
 * Rewrites the record lines, in log order, as a text editor would. (Should the layout have been
 * written across midnight UTC, in two day files, the lines are written back into the first.)
 */
function editLines(edit: (lines: string[]) => string[]) {
  return (c: Copy) => {
    const files = dayFiles(c);
    const lines = files.flatMap((name) => readFileSync(join(c.files, name), 'utf8').split('\n').filter(Boolean));
    writeFileSync(join(c.files, files[0]!), `${edit(lines).join('\n')}\n`);
    for (const name of files.slice(1)) rmSync(join(c.files, name));
  };
}

/** Edits the line of record `index`. */
const editLine = (index: number, edit: (line: string) => string) => editLines((lines) => lines.map((l, i) => (i === index ? edit(l) : l)));

/** The envelope part of a record line: `{"index":N,"envelope":<envelope>}`. */
const envelopeOf = (line: string) => line.slice(line.indexOf('"envelope":') + '"envelope":'.length, line.lastIndexOf('}'));
const lineOf = (index: number, envelope: string) => `{"index":${index},"envelope":${envelope}}`;

function editLeaves(edit: (leaves: Buffer) => Buffer) {
  return (c: Copy) => writeFileSync(join(c.files, 'leaves.bin'), edit(readFileSync(join(c.files, 'leaves.bin'))));
}

/** Rewrites the envelope of record `index` and its leaf to match: only a signed note can tell. */
const consistentRewrite = (index: number) => (c: Copy) => {
  let edited = '';
  editLine(index, (l) => lineOf(index, (edited = editModel(envelopeOf(l)))))(c);
  editLeaves((leaves) => {
    leafHashOfText(edited).copy(leaves, index * 32);
    return leaves;
  })(c);
};

type StoredNote = { size: number; note: string };
const readCheckpoints = (c: Copy): StoredNote[] =>
  readFileSync(join(c.files, 'checkpoints.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StoredNote);
const writeCheckpoints = (c: Copy, notes: StoredNote[]) =>
  writeFileSync(join(c.files, 'checkpoints.jsonl'), notes.map((n) => `${JSON.stringify(n)}\n`).join(''));
const editCheckpoints = (edit: (notes: StoredNote[]) => StoredNote[]) => (c: Copy) => writeCheckpoints(c, edit(readCheckpoints(c)));
const readHead = (c: Copy) => JSON.parse(readFileSync(join(c.files, 'head.json'), 'utf8')) as StoredNote;
const writeHead = (c: Copy, head: StoredNote) => writeFileSync(join(c.files, 'head.json'), JSON.stringify(head));
const noteOf = (c: Copy, size: number) => readCheckpoints(c).find((n) => n.size === size)!.note;

/** Appends a record line and its correct leaf: exactly what the writer would have written, but no head covers it. */
function appendForeign(entry: { canonical: string }) {
  return (c: Copy) => {
    editLines((lines) => [...lines, lineOf(LAYOUT.size, entry.canonical)])(c);
    editLeaves((leaves) => Buffer.concat([leaves, leafHashOfText(entry.canonical)]))(c);
  };
}

/** Replaces the store's directory with a copy taken earlier. */
const restore = (name: 'jsonl.older' | 'jsonl.backup' | 'jsonl.recent') => (c: Copy) => {
  rmSync(c.files, { recursive: true });
  cpSync(join(c.dir, name), c.files, { recursive: true });
};

const MUTATIONS: Mutation<Copy>[] = [
  // The record lines.
  {
    name: 'edit a field',
    does: 'changes the model in the line of record 3',
    expect: { firstBad: 3, problems: ['changed@3'] },
    cli: true,
    apply: editLine(3, editModel),
  },
  {
    name: 'bit flip in an envelope',
    does: 'flips one bit of record 9 (a letter of its model)',
    expect: { firstBad: 9, problems: ['changed@9'] },
    apply: editLine(9, flipBit),
  },
  {
    name: "truncate an envelope's text",
    does: 'cuts the line of record 5 to half its length (not JSON any more)',
    expect: { firstBad: 5, problems: ['changed@5'] },
    cli: true,
    apply: editLine(5, (l) => l.slice(0, l.length / 2)),
  },
  {
    name: 'replace an envelope with non-JSON',
    does: 'replaces the line of record 7 by plain text',
    expect: { firstBad: 7, problems: ['changed@7'] },
    apply: editLine(7, () => 'this is not a record'),
  },
  {
    name: 'delete one line',
    does: 'deletes the line of record 4 (its leaf stays)',
    expect: { firstBad: 4, problems: ['missing@4'] },
    cli: true,
    apply: editLines((ls) => ls.filter((_, i) => i !== 4)),
  },
  {
    name: 'delete a range',
    does: 'deletes the lines of records 6..9',
    expect: { firstBad: 6, problems: ['missing@6'] },
    apply: editLines((ls) => ls.filter((_, i) => i < 6 || i > 9)),
  },
  {
    name: 'delete the newest line with its leaf',
    does: 'deletes the line of record 15 and the last 32 bytes of leaves.bin (head.json still says 16)',
    expect: { firstBad: 15, problems: ['truncated@15'] },
    apply: (c) => {
      editLines((ls) => ls.slice(0, 15))(c);
      editLeaves((leaves) => leaves.subarray(0, 15 * 32))(c);
    },
  },
  {
    name: 'truncate the tail consistently',
    does: 'cuts the lines and leaves.bin back to 8, drops checkpoint 10 and puts back the signed head of size 8 (from an older copy)',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: (c) => {
      editLines((ls) => ls.slice(0, 8))(c);
      editLeaves((leaves) => leaves.subarray(0, 8 * 32))(c);
      editCheckpoints((notes) => notes.filter((n) => n.size <= 8))(c);
      writeHead(c, { size: 8, note: kept.head8 });
    },
  },
  {
    name: 'insert a forged line in the middle',
    does: 'inserts a forged call claiming index 5 before the line of record 5 (later lines unchanged)',
    expect: { firstBad: 5, problems: ['changed@5', 'misplaced@6'] },
    apply: editLines((ls) => [...ls.slice(0, 5), lineOf(5, forgedEntry(sampleCall(500)).canonical), ...ls.slice(5)]),
  },
  {
    name: 'insert a forged line at the tail with a correct leaf',
    does: 'appends a well-formed call line for index 16 and its correct leaf hash',
    expect: { firstBad: 16, problems: ['unsealed@16'] },
    cli: true,
    apply: appendForeign(forgedEntry(sampleCall(501))),
  },
  {
    name: 'duplicate a line',
    does: 'writes the line of record 3 twice',
    expect: { firstBad: 4, problems: ['misplaced@4'] },
    apply: editLines((ls) => [...ls.slice(0, 4), ls[3]!, ...ls.slice(4)]),
  },
  {
    name: "swap two lines' envelopes",
    does: 'exchanges the envelopes of records 3 and 11 (their "index" stays)',
    expect: { firstBad: 3, problems: ['changed@3', 'changed@11'] },
    apply: editLines((ls) => ls.map((l, i) => (i === 3 ? lineOf(3, envelopeOf(ls[11]!)) : i === 11 ? lineOf(11, envelopeOf(ls[3]!)) : l))),
  },
  {
    name: 'reorder two lines',
    does: 'exchanges the lines of records 6 and 9 in the file (each keeps its "index")',
    expect: { firstBad: 6, problems: ['missing@6'] },
    apply: editLines((ls) => ls.map((l, i) => (i === 6 ? ls[9]! : i === 9 ? ls[6]! : l))),
  },
  {
    name: "swap two records' indexes, lines and leaves",
    does: 'exchanges records 6 and 9 together with their leaves: every line matches its leaf, the order does not',
    expect: { within: [5, 6], problems: ['fork'] },
    cli: true,
    apply: (c) => {
      editLines((ls) => ls.map((l, i) => (i === 6 ? lineOf(6, envelopeOf(ls[9]!)) : i === 9 ? lineOf(9, envelopeOf(ls[6]!)) : l)))(c);
      editLeaves((leaves) => {
        const [six, nine] = [Buffer.from(leaves.subarray(6 * 32, 7 * 32)), Buffer.from(leaves.subarray(9 * 32, 10 * 32))];
        nine.copy(leaves, 6 * 32);
        six.copy(leaves, 9 * 32);
        return leaves;
      })(c);
    },
  },
  {
    name: 'consistent rewrite under an anchored checkpoint',
    does: 'changes record 7 and rewrites its leaf in leaves.bin to match: only checkpoint 10 (stored and anchored) can tell',
    expect: { within: [5, 7], problems: ['fork'] },
    cli: true,
    apply: consistentRewrite(7),
  },
  {
    name: 'consistent rewrite under the signed head only',
    does: 'changes record 12 and rewrites its leaf to match: only head.json (16) can tell',
    expect: { within: [10, 12], problems: ['root-mismatch'] },
    apply: consistentRewrite(12),
  },
  {
    name: 'append a garbage line',
    does: 'appends a line of text that is not a record',
    expect: { firstBad: 16, problems: ['changed@16', 'unsealed@16'] },
    apply: editLines((ls) => [...ls, 'garbage appended by hand']),
  },

  // leaves.bin
  {
    name: 'leaf bit flip',
    does: 'flips one bit of leaf 9 in leaves.bin',
    expect: { firstBad: 9, problems: ['changed@9'] },
    apply: editLeaves((leaves) => {
      leaves[9 * 32]! ^= 1;
      return leaves;
    }),
  },
  {
    name: 'delete a leaf',
    does: 'removes the 32 bytes of leaf 4 from leaves.bin (the later leaves move down)',
    expect: { firstBad: 4, problems: ['changed@4'] },
    apply: editLeaves((leaves) => Buffer.concat([leaves.subarray(0, 4 * 32), leaves.subarray(5 * 32)])),
  },
  {
    name: 'cut leaves.bin',
    does: 'truncates leaves.bin to 12 leaves (the lines stay)',
    expect: { firstBad: 12, problems: ['changed@12'] },
    cli: true,
    apply: editLeaves((leaves) => leaves.subarray(0, 12 * 32)),
  },
  {
    name: 'orphan leaf at the tail',
    does: 'appends 32 bytes to leaves.bin with no line for them',
    expect: { firstBad: 16, problems: ['truncated@16'] },
    apply: editLeaves((leaves) => Buffer.concat([leaves, Buffer.alloc(32, 7)])),
  },

  // checkpoints.jsonl and head.json
  {
    name: 'edit the size of the newest checkpoint',
    does: 'stores checkpoint 10 with size 9 in checkpoints.jsonl (its note unchanged)',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 9 but its signed note says 10/ },
    cli: true,
    apply: editCheckpoints((notes) => notes.map((n) => (n.size === 10 ? { ...n, size: 9 } : n))),
  },
  {
    name: "corrupt a checkpoint's signature",
    does: 'changes one character of the signature of checkpoint 5',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: editCheckpoints((notes) => notes.map((n) => (n.size === 5 ? { ...n, note: corruptSignature(n.note) } : n))),
  },
  {
    name: "replace the newest checkpoint's note with an older one",
    does: 'stores the note of checkpoint 5 as checkpoint 10',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 10 but its signed note says 5/ },
    apply: (c) => editCheckpoints((notes) => notes.map((n) => (n.size === 10 ? { ...n, note: noteOf(c, 5) } : n)))(c),
  },
  {
    name: 'insert a checkpoint signed by another key',
    does: 'appends a checkpoint of size 16 with the right root, signed by a key that is not the ledger’s',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: (c) => editCheckpoints((notes) => [...notes, { size: 16, note: signedByAnotherKey(readHead(c).note) }])(c),
  },
  {
    name: 'delete all stored checkpoints and the head',
    does: 'deletes checkpoints.jsonl and head.json: only the anchor (5, 10) is left',
    expect: { firstBad: 10, problems: ['unsealed@10'] },
    cli: true,
    apply: (c) => {
      rmSync(join(c.files, 'checkpoints.jsonl'));
      rmSync(join(c.files, 'head.json'));
    },
  },
  {
    name: 'delete head.json',
    does: 'deletes the signed head',
    expect: { firstBad: 10, problems: ['unsealed@10'] },
    apply: (c) => rmSync(join(c.files, 'head.json')),
  },
  {
    name: 'edit head.json',
    does: 'changes the size stored in head.json to 15 (its note unchanged)',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /head checkpoint is stored with size 15 but its signed note says 16/ },
    apply: (c) => writeHead(c, { ...readHead(c), size: 15 }),
  },
  {
    name: "corrupt the head's signature",
    does: 'changes one character of the signature in head.json',
    expect: { firstBad: 10, problems: ['bad-checkpoint', 'unsealed@10'] },
    apply: (c) => writeHead(c, { size: 16, note: corruptSignature(readHead(c).note) }),
  },
  {
    name: 'replay an older signed head',
    does: 'puts back the head of size 13 (a valid note)',
    expect: { firstBad: 13, problems: ['unsealed@13'] },
    apply: (c) => writeHead(c, { size: 13, note: kept.head13 }),
  },

  // Retention.
  {
    name: 'forged retention record in the files',
    does: 'deletes the lines of records 3..5 and appends a retention line (correct leaf) stating envelopes below 100 were pruned',
    // The retention record excuses nothing: verify takes the horizon only from signed notes.
    expect: { firstBad: 3, problems: ['missing@3', 'fork@3'] },
    cli: true,
    apply: (c) => {
      editLines((ls) => ls.filter((_, i) => i < 3 || i > 5))(c);
      appendForeign(forgedRetention(100))(c);
    },
  },

  // Rollback.
  {
    name: 'rollback to an older copy of the files',
    does: 'replaces the store directory by the copy taken at 8 records (its own head of 8 included); the anchor has checkpoint 10',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: restore('jsonl.older'),
  },
];

const REFUSALS: WriterRefusal<Copy>[] = [
  {
    name: 'rollback to an older copy, then reopen and append',
    does: 'restores the copy of 8 records and opens it for writing',
    refusal: /holds 8 records but its anchor .* has a signed checkpoint of 10: the records from index 8 are gone/,
    thenVerify: { firstBad: 8, problems: ['truncated@8'] },
    apply: restore('jsonl.older'),
  },
  {
    name: 'restore a backup, then append',
    does: 'restores the backup of 5 records and opens it for writing',
    refusal: /holds 5 records but its anchor .* has a signed checkpoint of 10: the records from index 5 are gone/,
    thenVerify: { firstBad: 5, problems: ['truncated@5'] },
    apply: restore('jsonl.backup'),
  },
  {
    name: 'a foreign line at the tail, then append',
    does: 'appends a call line with its correct leaf at 16, and opens the files for writing',
    refusal: /records from index 16 to 16 that no signed head or checkpoint covers/,
    thenVerify: { firstBad: 16, problems: ['unsealed@16'] },
    apply: appendForeign(forgedEntry(sampleCall(502))),
  },
  {
    name: 'a consistent rewrite, then append',
    does: 'changes record 12 and its leaf consistently, and opens the files for writing',
    refusal: /does not match its signed head \(size 16\)/,
    thenVerify: { within: [10, 12], problems: ['root-mismatch'] },
    apply: consistentRewrite(12),
  },
];

const LIMITS: Limit<Copy>[] = [
  {
    name: 'rollback to a copy taken after the newest anchored checkpoint',
    does: 'replaces the store directory by the copy taken at 13 records (its head of 13 and checkpoints 5 and 10 included)',
    why: 'the anchor receives checkpoints only (the newest here is 10); records 10..15 were covered by head.json alone, which was rolled back with the rest. The loss is bounded by log.checkpoint_interval_ms.',
    apply: restore('jsonl.recent'),
  },
];

/**
 * Finding: these files are read when the store opens, and a line that is not JSON fails the open
 * itself, so `llm-ledger verify` cannot run (exit 3) and gives no report, although the message
 * about head.json tells the operator to run it. Verify could instead report the damaged note as
 * 'bad-checkpoint' and go on without it.
 */
const OPEN_FAILURES: OpenFailure<Copy>[] = [
  {
    name: 'head.json that is not JSON',
    does: 'replaces head.json by text',
    error: /head\.json is not JSON: the log's signed head was damaged/,
    exitCode: 3,
    apply: (c) => writeFileSync(join(c.files, 'head.json'), 'not a head'),
  },
  {
    name: 'a checkpoint line that is not JSON',
    does: 'appends a line of text to checkpoints.jsonl',
    error: /checkpoints\.jsonl line 3 is not JSON/,
    exitCode: 3,
    apply: (c) => writeFileSync(join(c.files, 'checkpoints.jsonl'), `${readFileSync(join(c.files, 'checkpoints.jsonl'), 'utf8')}not a checkpoint\n`),
  },
];

beforeAll(async () => {
  const live = tempDir('llm-ledger-tamper-jsonl-live-');
  golden = tempDir('llm-ledger-tamper-jsonl-golden-');
  made.push(live, golden);
  writeFileSync(join(live, 'llm-ledger.yaml'), CONFIG);
  const ledger: Ledger = await openLedger(join(live, 'llm-ledger.yaml'), quiet);
  // The store writes each file synchronously and durably before a batch resolves: a copy between batches is consistent.
  const snapshot = (name: string) => cpSync(join(live, 'jsonl'), join(golden, name), { recursive: true });
  const head = () => (JSON.parse(readFileSync(join(live, 'jsonl', 'head.json'), 'utf8')) as StoredNote).note;
  try {
    await writeLayout(ledger, (stage) => {
      if (stage === 'backup') snapshot('jsonl.backup');
      if (stage === 'older') {
        snapshot('jsonl.older');
        kept.head8 = head();
      }
      if (stage === 'recent') {
        snapshot('jsonl.recent');
        kept.head13 = head();
      }
      if (stage === 'final') {
        snapshot('jsonl');
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
  console.log(summary('JSONL', { mutations: MUTATIONS, refusals: REFUSALS, limits: LIMITS, openFailures: OPEN_FAILURES, apiRefusals: 1 }));
});

describe('the JSONL tamper suite', () => {
  it('starts from the layout: 16 lines, checkpoints 5 and 10 stored and anchored, head.json at 16', async () => {
    const c = copyOfGolden();
    expect(readCheckpoints(c).map((n) => n.size)).toEqual([...LAYOUT.checkpoints]);
    expect(readHead(c).size).toBe(LAYOUT.head);
    expect(existsSync(join(c.files, 'leaves.bin')) && readFileSync(join(c.files, 'leaves.bin')).length).toBe(LAYOUT.size * 32);
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

  describe.each(OPEN_FAILURES.map((f) => [`${f.name}: ${f.does}`, f] as const))('refused at open: %s', (_, f) => {
    it(`no ledger opens on it, not even to verify; the CLI exits ${f.exitCode}`, async () => {
      const c = copyOfGolden();
      await f.apply(c);
      await expect(verifyCopy(c)).rejects.toThrow(f.error);
      const cli = await cliVerify(c.dir);
      expect(cli.code).toBe(f.exitCode);
      expect(cli.stderr).toMatch(f.error);
    });
  });

  it('replay an older head.json and its head.next.json: the state a crash leaves before the rename of batch 13..15, completed with nothing lost', async () => {
    const c = copyOfGolden();
    const ids = readFileSync(join(c.files, dayFiles(c)[0]!), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { envelope: { id: string } }).envelope.id);
    // The head of 16 was the head.next.json of batch 13..15 before its rename: put back as it stood then.
    writeFileSync(join(c.files, 'head.next.json'), readFileSync(join(c.files, 'head.json')));
    writeHead(c, { size: 13, note: kept.head13 });

    // Read-only: the whole batch reads as committed, with a warning that the next writable open completes it.
    const report = await verifyCopy(c);
    expect(report).toMatchObject({ ok: true, size: LAYOUT.size, problems: [], coveredBySignature: LAYOUT.size });
    expect(report.warnings.join('\n')).toMatch(/records 13 to 15, whole.*completes it/);
    expect(await cliVerify(c.dir)).toMatchObject({ code: 0, report: { ok: true } });
    expect(readHead(c).size).toBe(13);

    const ledger = await openLedger(config(c), quiet);
    try {
      expect((await ledger.record(sampleCall(901))).index).toBe(LAYOUT.size);
      for (const id of ids) expect(await ledger.get(id)).toBeDefined();
      expect((await ledger.search({ kind: 'event', eventType: 'torn_tail_recovered' })).records).toEqual([]);
    } finally {
      await ledger.close();
    }
    expect(existsSync(join(c.files, 'head.next.json'))).toBe(false);
    expect(await verifyCopy(c)).toMatchObject({ ok: true, size: LAYOUT.size + 1, warnings: [] });
  });
});

/**
 * The tamper suite on PostgreSQL: what the schema's owner could do once it switches the
 * append-only triggers off (they are ENABLE ALWAYS, so `session_replication_role = replica` does
 * not silence them: the owner disables them with ALTER TABLE ... DISABLE TRIGGER USER), and what
 * the writer and retention roles can do without switching anything off. Each mutation gets a
 * ledger of its own, in a schema of its own, written through the API (see LAYOUT: checkpoints 5
 * and 10, stored and anchored; the signed head at 16 in the log_head row covers records 10..15
 * alone). Verification runs read-only, as an auditor runs it, so nothing is signed over the
 * mutation first.
 */
import { cpSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { signBatchSeal } from '../log/batch-seal.js';
import { generateSignerKey, NoteSigner } from '../log/checkpoint.js';
import { leafHashOfText } from '../log/merkle.js';
import { rolesOf } from '../store/postgres/postgres-schema.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../store/test-support/postgres.js';
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
  noteSize,
  signedByAnotherKey,
  summary,
  writeLayout,
  type Limit,
  type Mutation,
  type OpenFailure,
  type Stage,
  type WriterRefusal,
} from './test-support/tamper-mutations.js';

/**
 * Two configurations of one ledger: the layout is written with an interval of an hour, so only
 * flushes sign checkpoints; the writers of the refusal tests checkpoint every batch (interval 0).
 */
const config = (schema: string, intervalMs: number) => `store:
  type: postgres
  url: ${TEST_DATABASE_URL}
  schema: ${schema}
log:
  signing_key_file: ./signing.key
  checkpoint_interval_ms: ${intervalMs}
  anchor:
    path: ./anchor
digest:
  key_file: ./digest.key
`;

/** One ledger: its directory (keys, anchor, llm-ledger.yaml) and its schema. */
interface Copy {
  dir: string;
  schema: string;
  /** The schema, quoted for SQL. */
  s: string;
  /** Signed notes kept while the layout was written. */
  checkpointNotes: Map<number, string>;
  /** The signed heads of the older copies (8 and 13 records). */
  headNotes: Map<number, string>;
}

const schemas = new TestSchemas();
/** Copies of the tables taken while a layout was written (for rollbacks), in a schema of their own. */
const snapshots = schemas.next();
const made: string[] = [];
const quiet = { onWarning: () => undefined };

afterAll(async () => {
  await schemas.dropAll();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  console.log(summary('PostgreSQL', { mutations: MUTATIONS, refusals: REFUSALS, limits: LIMITS, openFailures: OPEN_FAILURES, apiRefusals: 1 }));
});

/** The tables a restore of a backup brings back (records without their generated JSONB column). */
const SNAPSHOT_TABLES = ['leaves', 'checkpoints', 'log_head'];
const snapshotTable = (c: Copy, stage: Stage, table: string) => `"${snapshots}"."${c.schema}_${stage}_${table}"`;

/**
 * Writes the layout through the API into a new schema (about a second), keeping copies of its
 * tables at the stages a rollback goes back to. Closing the ledger signs a last checkpoint over
 * the tail (16); that row and its anchor file are taken away again afterwards, which leaves the
 * log as the moment before the close (or a crash) would: records 10..15 covered by the signed
 * head alone, as in SQLite's and JSONL's layout.
 */
async function freshLedger(): Promise<Copy> {
  const dir = tempDir('llm-ledger-tamper-postgres-');
  made.push(dir);
  const schema = schemas.next();
  const c: Copy = { dir, schema, s: `"${schema}"`, checkpointNotes: new Map(), headNotes: new Map() };
  writeFileSync(join(dir, 'write.yaml'), config(schema, 3_600_000));
  writeFileSync(join(dir, 'llm-ledger.yaml'), config(schema, 0));
  const ledger = await openLedger(join(dir, 'write.yaml'), quiet);
  try {
    await writeLayout(ledger, async (stage) => {
      if (stage === 'final') {
        cpSync(join(dir, 'anchor'), join(dir, 'anchor.final'), { recursive: true });
        return;
      }
      await withClient(async (client) => {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${snapshots}"`);
        await client.query(`CREATE TABLE ${snapshotTable(c, stage, 'records')} AS SELECT idx, ts, canonical FROM ${c.s}.records`);
        for (const table of SNAPSHOT_TABLES) await client.query(`CREATE TABLE ${snapshotTable(c, stage, table)} AS SELECT * FROM ${c.s}.${table}`);
        const head = (await client.query<{ size: string; note: string }>(`SELECT size, note FROM ${c.s}.log_head`)).rows[0]!;
        c.headNotes.set(Number(head.size), head.note);
      });
    });
  } finally {
    await ledger.close();
  }
  await withClient(async (client) => {
    // Only the checkpoints table's triggers are switched off for this, and back on (ALWAYS) after.
    await client.query(`SET ROLE "${rolesOf(schema).owner}"`);
    await client.query(`ALTER TABLE ${c.s}.checkpoints DISABLE TRIGGER USER`);
    await client.query(`DELETE FROM ${c.s}.checkpoints WHERE size > ${LAYOUT.checkpoints.at(-1)}`);
    for (const name of ['checkpoints_append_only', 'checkpoints_no_truncate'])
      await client.query(`ALTER TABLE ${c.s}.checkpoints ENABLE ALWAYS TRIGGER ${name}`);
  });
  rmSync(join(dir, 'anchor'), { recursive: true });
  renameSync(join(dir, 'anchor.final'), join(dir, 'anchor'));
  await withClient(async (client) => {
    for (const { size, note } of (await client.query<{ size: string; note: string }>(`SELECT size, note FROM ${c.s}.checkpoints ORDER BY seq`)).rows)
      c.checkpointNotes.set(Number(size), note);
  });
  return c;
}

async function verifyCopy(c: Copy) {
  const ledger = await openLedger(join(c.dir, 'llm-ledger.yaml'), { ...quiet, readOnly: true });
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

/** The log's tables (batch_seals: written by versions before signed heads, read by verify). */
const LOG_TABLES = ['records', 'leaves', 'checkpoints', 'batch_seals', 'pruned', 'log_head'];

/**
 * A session as the schema's owner with the append-only triggers switched off (ENABLE ALWAYS
 * triggers ignore session_replication_role; the owner may disable them on its tables).
 */
async function asOwner(c: Copy, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  await withClient(async (client) => {
    await client.query(`SET ROLE "${rolesOf(c.schema).owner}"`);
    for (const table of LOG_TABLES) await client.query(`ALTER TABLE ${c.s}.${table} DISABLE TRIGGER USER`);
    await work(client);
  });
}

/** A session as one of the ledger's roles, nothing switched off: what that role's privileges alone allow. */
async function asRole(c: Copy, role: 'writer' | 'retention', work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  await withClient(async (client) => {
    await client.query(`SET ROLE "${rolesOf(c.schema)[role]}"`);
    await work(client);
  });
}

/** Statements run as the owner with the triggers off; `$s` stands for the schema. */
const sql = (text: string) => (c: Copy) => asOwner(c, (client) => client.query(text.replaceAll('$s', c.s)));

async function canonicalAt(client: pg.Client, c: Copy, idx: number): Promise<string> {
  return (await client.query<{ canonical: string }>(`SELECT canonical FROM ${c.s}.records WHERE idx = $1`, [idx])).rows[0]!.canonical;
}

/**
 * Rewrites record `idx`'s text; with `leaf`, its committed leaf too (only a checkpoint can tell);
 * with `notJson`, after dropping the generated JSONB column's expression, without which
 * PostgreSQL refuses text that is not JSON.
 */
function rewrite(idx: number, edit: (text: string) => string, options: { leaf?: boolean; notJson?: boolean } = {}) {
  return (c: Copy) =>
    asOwner(c, async (client) => {
      if (options.notJson) await client.query(`ALTER TABLE ${c.s}.records ALTER COLUMN envelope DROP EXPRESSION`);
      const text = edit(await canonicalAt(client, c, idx));
      await client.query(`UPDATE ${c.s}.records SET canonical = $1 WHERE idx = $2`, [text, idx]);
      if (options.leaf) await client.query(`UPDATE ${c.s}.leaves SET hash = $1 WHERE idx = $2`, [leafHashOfText(text), idx]);
    });
}

/**
 * Appends a row and its correct leaf after the last one, as the writer role: plain inserts, no
 * trigger switched off. The log head stays where it is: its trigger refuses to move it without a
 * new signed head, which only a holder of the signing key can make.
 */
function appendForeign(entry: { id: string; ts: string; canonical: string }) {
  return (c: Copy) =>
    asRole(c, 'writer', async (client) => {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${c.s}.records (idx, ts, canonical) VALUES ($1, $2, $3)`, [LAYOUT.size, entry.ts, entry.canonical]);
      await client.query(`INSERT INTO ${c.s}.leaves (idx, hash, id, ts) VALUES ($1, $2, $3, $4)`, [
        LAYOUT.size,
        leafHashOfText(entry.canonical),
        entry.id,
        entry.ts,
      ]);
      await client.query('COMMIT');
    });
}

/**
 * Puts the log's tables back as they were at `stage`, log_head included: a restore of a backup
 * taken then, by the database's administrator (the owner's triggers switched off first).
 */
function restore(stage: 'backup' | 'older' | 'recent') {
  return (c: Copy) =>
    asOwner(c, async (client) => {
      await client.query('RESET ROLE');
      await client.query(`DELETE FROM ${c.s}.records; DELETE FROM ${c.s}.leaves; DELETE FROM ${c.s}.checkpoints;`);
      await client.query(`INSERT INTO ${c.s}.records (idx, ts, canonical) SELECT idx, ts, canonical FROM ${snapshotTable(c, stage, 'records')}`);
      await client.query(`INSERT INTO ${c.s}.leaves SELECT * FROM ${snapshotTable(c, stage, 'leaves')}`);
      await client.query(
        `INSERT INTO ${c.s}.checkpoints (seq, size, note) OVERRIDING SYSTEM VALUE SELECT seq, size, note FROM ${snapshotTable(c, stage, 'checkpoints')}`,
      );
      await client.query(`UPDATE ${c.s}.log_head h SET size = o.size, note = o.note, frontier = o.frontier FROM ${snapshotTable(c, stage, 'log_head')} o`);
    });
}

/**
 * A seal over the row appended at the tail, as a version before signed heads wrote one, but signed
 * with a key that is not the ledger's; inserted by the owner (the writer may no longer insert seals).
 */
function foreignSeal(entry: { canonical: string }) {
  return (c: Copy) =>
    asOwner(c, (client) => {
      const origin = c.checkpointNotes.get(5)!.split('\n')[0]!;
      const stranger = new NoteSigner(generateSignerKey(origin.replace(/[\s+]/g, '_')));
      return client.query(`INSERT INTO ${c.s}.batch_seals (first_idx, note) VALUES ($1, $2)`, [
        LAYOUT.size,
        signBatchSeal(stranger, origin, LAYOUT.size, [leafHashOfText(entry.canonical)]),
      ]);
    });
}

/** The log head's row set to the head kept at `size` (a valid note, signed when the log had that many records). */
const replayHead = (size: 8 | 13) => (c: Copy) =>
  asOwner(c, (client) => client.query(`UPDATE ${c.s}.log_head SET size = $1, note = $2`, [size, c.headNotes.get(size)]));

/** Exchanges a column of two rows in one table, through a value no row holds. */
const swapIdx = (table: string, a: number, b: number) =>
  `UPDATE $s.${table} SET idx = 1000000 WHERE idx = ${a}; UPDATE $s.${table} SET idx = ${a} WHERE idx = ${b}; UPDATE $s.${table} SET idx = ${b} WHERE idx = 1000000;`;

const MUTATIONS: Mutation<Copy>[] = [
  // The records themselves.
  {
    name: 'edit a field',
    does: 'changes the model of record 3',
    expect: { firstBad: 3, problems: ['changed@3'] },
    cli: true,
    apply: sql(`UPDATE $s.records SET canonical = regexp_replace(canonical, '"model":"[^"]*"', '"model":"gpt-3.5-turbo"') WHERE idx = 3`),
  },
  {
    name: 'bit flip in an envelope',
    does: 'flips one bit of record 9 (a letter of its model)',
    expect: { firstBad: 9, problems: ['changed@9'] },
    apply: rewrite(9, flipBit),
  },
  {
    name: "truncate an envelope's text",
    does: 'cuts record 5 to half its length, after dropping the expression of the generated JSONB column (else PostgreSQL refuses text that is not JSON)',
    expect: { firstBad: 5, problems: ['changed@5'] },
    cli: true,
    apply: rewrite(5, (t) => t.slice(0, t.length / 2), { notJson: true }),
  },
  {
    name: 'replace an envelope with non-JSON',
    does: 'replaces the text of record 7 by plain text (generated column expression dropped)',
    expect: { firstBad: 7, problems: ['changed@7'] },
    apply: rewrite(7, () => 'this is not a record', { notJson: true }),
  },
  {
    name: 'delete one row',
    does: 'deletes record 4 (its leaf stays)',
    expect: { firstBad: 4, problems: ['missing@4'] },
    cli: true,
    apply: sql('DELETE FROM $s.records WHERE idx = 4'),
  },
  {
    name: 'delete a range',
    does: 'deletes records 6..9',
    expect: { firstBad: 6, problems: ['missing@6'] },
    apply: sql('DELETE FROM $s.records WHERE idx BETWEEN 6 AND 9'),
  },
  {
    name: 'delete the newest row with its leaf',
    does: 'deletes record 15 and leaf 15 (the signed head still covers 16)',
    expect: { firstBad: 15, problems: ['truncated@15'] },
    apply: sql('DELETE FROM $s.records WHERE idx = 15; DELETE FROM $s.leaves WHERE idx = 15;'),
  },
  {
    name: 'delete the newest batch',
    does: 'deletes records and leaves 13..15 (the whole last batch); the signed head still covers 16',
    expect: { firstBad: 13, problems: ['truncated@13'] },
    apply: sql('DELETE FROM $s.records WHERE idx >= 13; DELETE FROM $s.leaves WHERE idx >= 13;'),
  },
  {
    name: 'delete all stored checkpoints',
    does: 'empties the checkpoints table; the anchor keeps 5 and 10, the signed head covers the rest',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: sql('DELETE FROM $s.checkpoints'),
  },
  {
    name: 'truncate the tail consistently',
    does: 'cuts records and leaves back to 8, drops checkpoint 10 and puts back the signed head of size 8 (kept from then)',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: async (c) => {
      await sql('DELETE FROM $s.records WHERE idx >= 8; DELETE FROM $s.leaves WHERE idx >= 8; DELETE FROM $s.checkpoints WHERE size > 8;')(c);
      await replayHead(8)(c);
    },
  },
  {
    name: 'insert a forged row in the middle',
    does: 'moves records 5..15 up by one and writes a forged call at 5 (leaves untouched)',
    expect: { firstBad: 5, problems: ['changed@5', 'unsealed@16'] },
    apply: (c) =>
      asOwner(c, async (client) => {
        const forged = forgedEntry(sampleCall(500));
        // One row at a time from the top: the primary key (idx, ts) is checked row by row.
        for (let idx = 15; idx >= 5; idx--) await client.query(`UPDATE ${c.s}.records SET idx = idx + 1 WHERE idx = $1`, [idx]);
        await client.query(`INSERT INTO ${c.s}.records (idx, ts, canonical) VALUES (5, $1, $2)`, [forged.ts, forged.canonical]);
      }),
  },
  {
    name: 'insert a forged row at the tail with a correct leaf',
    does: 'appends a well-formed call at 16 with its correct leaf, as the writer role (plain inserts, no trigger switched off)',
    expect: { firstBad: 16, problems: ['unsealed@16'] },
    cli: true,
    apply: appendForeign(forgedEntry(sampleCall(501))),
  },
  {
    name: 'duplicate a row',
    does: 'moves records 4..15 up by one and writes a copy of record 3 at 4',
    expect: { firstBad: 4, problems: ['changed@4'] },
    apply: (c) =>
      asOwner(c, async (client) => {
        for (let idx = 15; idx >= 4; idx--) await client.query(`UPDATE ${c.s}.records SET idx = idx + 1 WHERE idx = $1`, [idx]);
        await client.query(`INSERT INTO ${c.s}.records (idx, ts, canonical) SELECT 4, ts, canonical FROM ${c.s}.records WHERE idx = 3`);
      }),
  },
  {
    name: "swap two rows' envelopes",
    does: 'exchanges the text (and ts, which must match it) of records 3 and 11',
    expect: { firstBad: 3, problems: ['changed@3', 'changed@11'] },
    apply: sql('UPDATE $s.records r SET canonical = o.canonical, ts = o.ts FROM $s.records o WHERE (r.idx, o.idx) IN ((3, 11), (11, 3))'),
  },
  {
    name: "swap two rows' indexes, records and leaves",
    does: 'exchanges records 6 and 9 together with their leaves: every row matches its leaf, the order does not',
    expect: { within: [5, 6], problems: ['fork'] },
    cli: true,
    apply: sql(swapIdx('records', 6, 9) + swapIdx('leaves', 6, 9)),
  },
  {
    name: 'swap the leaves.id column',
    does: 'exchanges the id column of leaves 3 and 12 (what lookups by id go through); records and hashes untouched',
    expect: { firstBad: 3, problems: ['changed@3', 'changed@12'] },
    cli: true,
    apply: sql(
      `UPDATE $s.leaves l SET id = 'swapping-' || l.idx WHERE idx IN (3, 12);
       UPDATE $s.leaves l SET id = r.canonical::jsonb ->> 'id' FROM $s.records r WHERE r.idx = CASE l.idx WHEN 3 THEN 12 ELSE 3 END AND l.idx IN (3, 12);`,
    ),
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
    apply: sql('UPDATE $s.leaves SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE idx = 9'),
  },
  {
    name: 'delete a leaf',
    does: 'deletes leaf 4 (record 4 stays)',
    expect: { firstBad: 4, problems: ['changed@4'] },
    apply: sql('DELETE FROM $s.leaves WHERE idx = 4'),
  },
  {
    name: 'orphan leaf at the tail',
    does: 'adds a leaf at 16 with no record, as the writer role',
    expect: { firstBad: 16, problems: ['truncated@16'] },
    apply: (c) => asRole(c, 'writer', (client) => client.query(`INSERT INTO ${c.s}.leaves (idx, hash, id, ts) VALUES (16, sha256('orphan'), 'orphan', now())`)),
  },

  // Checkpoints, the signed head and batch seals.
  {
    name: 'edit the size column of the newest checkpoint',
    does: 'stores checkpoint 10 with size 9 (its note unchanged)',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 9 but its signed note says 10/ },
    cli: true,
    apply: sql('UPDATE $s.checkpoints SET size = 9 WHERE size = 10'),
  },
  {
    name: "corrupt a checkpoint's signature",
    does: 'changes one character of the signature of checkpoint 5',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: (c) => asOwner(c, (client) => client.query(`UPDATE ${c.s}.checkpoints SET note = $1 WHERE size = 5`, [corruptSignature(c.checkpointNotes.get(5)!)])),
  },
  {
    name: "replace the newest checkpoint's note with an older one",
    does: 'stores the note of checkpoint 5 in the row of checkpoint 10',
    expect: { firstBad: null, problems: ['bad-checkpoint'], message: /stored with size 10 but its signed note says 5/ },
    apply: sql('UPDATE $s.checkpoints SET note = (SELECT note FROM $s.checkpoints WHERE size = 5) WHERE size = 10'),
  },
  {
    name: 'insert a checkpoint signed by another key',
    does: 'adds a checkpoint of size 10 with the right root, signed by a key that is not the ledger’s (as the writer role)',
    expect: { firstBad: null, problems: ['bad-checkpoint'] },
    apply: (c) =>
      asRole(c, 'writer', (client) =>
        client.query(`INSERT INTO ${c.s}.checkpoints (size, note) VALUES (10, $1)`, [signedByAnotherKey(c.checkpointNotes.get(10)!)]),
      ),
  },
  {
    name: 'delete all stored checkpoints and the head',
    does: "empties the checkpoints table and clears the log head's note: only the anchor (5, 10) is left",
    expect: { firstBad: 10, problems: ['unsealed@10', 'bad-checkpoint'] },
    cli: true,
    apply: sql('DELETE FROM $s.checkpoints; UPDATE $s.log_head SET note = NULL, frontier = NULL;'),
  },
  {
    name: 'delete the signed head',
    does: "clears the log head's note and frontier",
    expect: { firstBad: 10, problems: ['unsealed@10'] },
    apply: sql('UPDATE $s.log_head SET note = NULL, frontier = NULL'),
  },
  {
    name: "corrupt the head's signature",
    does: 'changes one character of the signature of the head',
    expect: { firstBad: 10, problems: ['bad-checkpoint', 'unsealed@10'] },
    apply: (c) =>
      asOwner(c, async (client) => {
        const { note } = (await client.query<{ note: string }>(`SELECT note FROM ${c.s}.log_head`)).rows[0]!;
        await client.query(`UPDATE ${c.s}.log_head SET note = $1`, [corruptSignature(note)]);
      }),
  },
  {
    name: 'replay an older signed head',
    does: 'puts back the head of size 13 (a valid note, signed before the last batch)',
    expect: { firstBad: 13, problems: ['unsealed@13'] },
    apply: replayHead(13),
  },
  {
    name: 'a forged row at the tail with a batch seal signed by another key',
    does: 'appends a call with its correct leaf at 16 (as the writer role) and a seal over it of the kind versions before signed heads wrote, signed by a key that is not the ledger’s (as the owner)',
    expect: { firstBad: 16, problems: ['unsealed@16'], message: /the batch seal at index 16 is not valid/ },
    apply: async (c) => {
      const forged = forgedEntry(sampleCall(504));
      await appendForeign(forged)(c);
      await foreignSeal(forged)(c);
    },
  },

  // Retention.
  {
    name: 'forged retention record in storage',
    does: 'deletes records 3..5 and appends a retention record (correct leaf) stating envelopes below 100 were pruned',
    // The retention record excuses nothing: verify takes the horizon only from signed notes.
    expect: { firstBad: 3, problems: ['missing@3'] },
    cli: true,
    apply: async (c) => {
      await sql('DELETE FROM $s.records WHERE idx BETWEEN 3 AND 5')(c);
      await appendForeign(forgedRetention(100))(c);
    },
  },
  {
    name: 'raise the pruned horizon and delete below it',
    does: 'as the retention role, nothing switched off: inserts 6 into pruned and deletes records 0..5, which the records trigger then allows',
    expect: { firstBad: 0, problems: ['missing@0'] },
    apply: (c) => asRole(c, 'retention', (client) => client.query(`INSERT INTO ${c.s}.pruned (below) VALUES (6); DELETE FROM ${c.s}.records WHERE idx < 6;`)),
  },

  // Rollback.
  {
    name: 'rollback to an older copy',
    does: 'restores records, leaves, checkpoints and log_head (its signed head of 8 included) as they were at 8 records; the anchor has checkpoint 10',
    expect: { firstBad: 8, problems: ['truncated@8'] },
    cli: true,
    apply: restore('older'),
  },
];

const REFUSALS: WriterRefusal<Copy>[] = [
  {
    name: 'rollback to an older copy, then reopen and append',
    does: 'restores the tables as they were at 8 records and opens the ledger for writing',
    refusal: /holds 8 records but its anchor .* has a signed checkpoint of 10: the records from index 8 are gone/,
    thenVerify: { firstBad: 8, problems: ['truncated@8'] },
    apply: restore('older'),
  },
  {
    name: 'restore a backup, then append',
    does: 'restores the tables as they were at 5 records and opens the ledger for writing',
    refusal: /holds 5 records but its anchor .* has a signed checkpoint of 10: the records from index 5 are gone/,
    thenVerify: { firstBad: 5, problems: ['truncated@5'] },
    apply: restore('backup'),
  },
  {
    name: 'a foreign row at the tail, then append',
    does: 'appends a call with its correct leaf at 16 (as the writer role), and opens the ledger for writing',
    refusal: /records from index 16 to 16 that no signed head or checkpoint covers/,
    thenVerify: { firstBad: 16, problems: ['unsealed@16'] },
    apply: appendForeign(forgedEntry(sampleCall(502))),
  },
  {
    name: 'a consistent rewrite, then append',
    does: 'changes record 12 and its leaf consistently, and opens the ledger for writing',
    refusal: /does not match its signed head \(size 16\)/,
    thenVerify: { within: [10, 12], problems: ['root-mismatch'] },
    apply: rewrite(12, editModel, { leaf: true }),
  },
];

const LIMITS: Limit<Copy>[] = [
  {
    name: 'rollback to a copy taken after the newest anchored checkpoint',
    does: 'restores the tables as they were at 13 records (its signed head of 13 and checkpoints 5 and 10 included)',
    why: 'the anchor receives checkpoints only (the newest here is 10); records 10..15 were covered by the signed head alone, which is in the database that was rolled back. The loss is bounded by log.checkpoint_interval_ms.',
    apply: restore('recent'),
  },
];

const OPEN_FAILURES: OpenFailure<Copy>[] = [];

describe('the PostgreSQL tamper suite', () => {
  it('starts from the layout: 16 records, checkpoints 5 and 10 stored and anchored, the signed head at 16, no batch seal', async () => {
    const c = await freshLedger();
    expect([...c.checkpointNotes.keys()]).toEqual([...LAYOUT.checkpoints]);
    const head = await withClient(async (client) => (await client.query<{ size: string; note: string }>(`SELECT size, note FROM ${c.s}.log_head`)).rows[0]!);
    expect(Number(head.size)).toBe(LAYOUT.head);
    expect(noteSize(head.note)).toBe(LAYOUT.head);
    expect([...c.headNotes.keys()]).toEqual([LAYOUT.backup, LAYOUT.older, LAYOUT.recent]);
    expect(await withClient(async (client) => (await client.query(`SELECT count(*)::int AS n FROM ${c.s}.batch_seals`)).rows[0].n)).toBe(0);
    // Every trigger of the log's tables fires always, as the migrations left them (the layout's trim of checkpoint 16 switched them back on).
    const off = await withClient(
      async (client) =>
        (
          await client.query<{ name: string }>(
            `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = ANY($1::regclass[]) AND NOT tgisinternal AND tgenabled <> 'A'`,
            [LOG_TABLES.map((t) => `${c.s}.${t}`)],
          )
        ).rows,
    );
    expect(off).toEqual([]);
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
    expect(await cliVerify(c.dir, { async: true })).toMatchObject({ code: 0, report: { ok: true } });
  });

  it('covers at least 30 kinds of mutation', () => {
    // The rows below, and the forged retention record the API refuses.
    expect(MUTATIONS.length + REFUSALS.length + LIMITS.length + OPEN_FAILURES.length + 1).toBeGreaterThanOrEqual(30);
  });

  describeSharedRows({ copy: freshLedger, verify: verifyCopy, cliAsync: true, concurrent: true }, { mutations: MUTATIONS, refusals: REFUSALS, limits: LIMITS });

  it('a lookup by an id whose leaves.id was swapped throws LedgerIntegrityError instead of returning the other record', async () => {
    const c = await freshLedger();
    const id3 = await withClient(async (client) => (await client.query<{ id: string }>(`SELECT id FROM ${c.s}.leaves WHERE idx = 3`)).rows[0]!.id);
    await MUTATIONS.find((m) => m.name === 'swap the leaves.id column')!.apply(c);
    const ledger = await openLedger(join(c.dir, 'llm-ledger.yaml'), { ...quiet, readOnly: true });
    try {
      await expect(ledger.get(id3)).rejects.toBeInstanceOf(LedgerIntegrityError);
    } finally {
      await ledger.close();
    }
  });
});

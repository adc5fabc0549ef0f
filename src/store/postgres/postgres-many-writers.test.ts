import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { Ledger, LedgerReader } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { TS_CHILD_ARGS } from '../../ledger/test-support/crash.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { verifyLog } from '../../ledger/verify.js';
import { openCheckpoint } from '../../log/checkpoint.js';
import { rootOf } from '../../log/merkle.js';
import { generateSignerKey } from '../../log/note.js';
import { verifyProof } from '../../log/proof.js';
import { Sequencer } from '../../log/sequencer.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';
import { rolesOf } from './postgres-schema.js';
import type { AppendEntry } from '../store.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

const ORIGIN = 'test.example/log';

/** Ledgers that share one schema, signing key and anchor, as gateway instances on one database do. */
function opener(schema: string, intervalMs = 50, dir = tempDir()) {
  const warnings: string[] = [];
  const config = configSchema(dir).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: intervalMs, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
  function open(): Promise<Ledger>;
  function open(readOnly: true): Promise<LedgerReader>;
  function open(readOnly = false): Promise<LedgerReader> {
    return openLedger(config, { onWarning: (m) => warnings.push(m), readOnly });
  }
  return { dir, warnings, open };
}

/** `count` calls, each with a request id that names its writer, so the log says who wrote what. */
function callsOf(writer: string, count: number): AppendEntry[] {
  return entriesFor(Array.from({ length: count }, (_, i) => sampleCall(i, { requestId: `${writer}-${i}` })));
}

/**
 * What every writer's appends must add up to: each record stored exactly once, at the index its
 * append acknowledged, the indexes gap-free; the signed head over the whole log (its root is the
 * one the stored leaves give); and verify passes against it.
 */
async function expectWholeLog(store: PostgresStore, key: string, acknowledged: Map<string, number>, total: number): Promise<void> {
  expect(await store.size()).toBe(total);
  expect([...acknowledged.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  for (const [id, index] of acknowledged) expect((await store.getById(id))?.index, id).toBe(index);
  const { verifierKey } = new Sequencer(key, ORIGIN);
  const head = await store.head();
  expect(head?.size).toBe(total);
  expect(openCheckpoint(head!.note, verifierKey, ORIGIN).root.equals(rootOf(await store.leafHashes(0, total)))).toBe(true);
  const report = await verifyLog(store, { origin: ORIGIN, verifierKey });
  expect(report.problems).toEqual([]);
  expect(report).toMatchObject({ ok: true, size: total, verifiedSize: total, coveredBySignature: total });
}

/**
 * A writer process of its own: opens a PostgresStore of its own on the schema and says `ready`;
 * on a line from the parent, appends the entries in `file` (JSON) in batches of `batch`, with the
 * signing key in LLM_LEDGER_TEST_KEY, and prints `ack <id> <index>` for each record once its
 * batch has committed.
 */
const CHILD = `
import { readFileSync } from 'node:fs';
import { openPostgresStore } from ${JSON.stringify(fileURLToPath(new URL('./postgres-store.ts', import.meta.url)))};
import { Sequencer } from ${JSON.stringify(fileURLToPath(new URL('../../log/sequencer.ts', import.meta.url)))};
const [url, schema, file, batch] = process.argv.slice(1);
const entries = JSON.parse(readFileSync(file, 'utf8')).map((e) => ({ id: e.id, canonical: e.canonical, leafHash: Buffer.from(e.leafHash, 'hex') }));
const store = openPostgresStore({ url, schema });
const sequencer = new Sequencer(process.env.LLM_LEDGER_TEST_KEY, ${JSON.stringify(ORIGIN)});
await store.size();
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
for (let at = 0; at < entries.length; at += Number(batch)) {
  const part = entries.slice(at, at + Number(batch));
  const { indexes } = await store.append(part, { sequencer, checkpoint: at % 4 === 0 });
  process.stdout.write(part.map((e, i) => 'ack ' + e.id + ' ' + indexes[i] + '\\n').join(''));
}
await store.close();
`;

interface ChildWriter {
  /** Resolves once the process has its store open. */
  ready: Promise<void>;
  go(): void;
  /** What it acknowledged, once it has exited 0. */
  done: Promise<Map<string, number>>;
}

/** Starts CHILD over `entries`. */
function childWriter(schema: string, key: string, entries: AppendEntry[], batch: number): ChildWriter {
  const file = join(tempDir('llm-ledger-pg-writer-'), 'entries.json');
  writeFileSync(file, JSON.stringify(entries.map((e) => ({ id: e.id, canonical: e.canonical, leafHash: e.leafHash.toString('hex') }))));
  const child = spawn(process.execPath, [...TS_CHILD_ARGS, '--input-type=module', '-e', CHILD, TEST_DATABASE_URL, schema, file, String(batch)], {
    env: { ...process.env, LLM_LEDGER_TEST_KEY: key },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let said: () => void;
  const ready = new Promise<void>((resolve) => (said = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) said();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<Map<string, number>>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`a writer process exited with ${code}: ${err}`));
      const acknowledged = new Map<string, number>();
      for (const line of out.split('\n').filter((l) => l.startsWith('ack '))) {
        const [, id, index] = line.split(' ');
        acknowledged.set(id!, Number(index));
      }
      resolve(acknowledged);
    });
  });
  // A process that fails before it is ready fails the test through `done`, not a wait for `ready`.
  return { ready: Promise.race([ready, done.then(() => undefined)]), go: () => child.stdin.end('go\n'), done };
}

/** The first and last index of a writer's records: wider than their count when others' landed between. */
function span(acknowledged: Map<string, number>): number {
  const indexes = [...acknowledged.values()];
  return Math.max(...indexes) - Math.min(...indexes) + 1;
}

describe('many writers on one PostgreSQL log, each batch sequenced under the log head lock', () => {
  it('four stores in one process, each with its own sequencer, append at once: every record once, at its acknowledged index, gap-free; the head signs the whole log, verify passes', async () => {
    const schema = schemas.next();
    const key = generateSignerKey(ORIGIN);
    const stores = Array.from({ length: 4 }, () => openPostgresStore({ url: TEST_DATABASE_URL, schema }));
    const acknowledged = new Map<string, number>();
    try {
      await Promise.all(
        stores.map(async (store, w) => {
          const sequencer = new Sequencer(key, ORIGIN);
          const entries = callsOf(`w${w}`, 120);
          // Several batches of one store in flight at once, as the writer sends them; sizes vary so batches interleave unevenly.
          const batches: Promise<void>[] = [];
          for (let at = 0, size = 1 + w; at < entries.length; at += size, size = (size % 7) + 1) {
            const part = entries.slice(at, at + size);
            batches.push(
              store.append(part, { sequencer, checkpoint: at % 3 === 0 }).then(({ indexes, head }) => {
                expect(head.size).toBeGreaterThanOrEqual(indexes.at(-1)! + 1);
                part.forEach((e, i) => acknowledged.set(e.id, indexes[i]!));
              }),
            );
          }
          await Promise.all(batches);
        }),
      );
      await expectWholeLog(stores[0]!, key, acknowledged, 480);
      // Every stored checkpoint is a head some writer signed: sizes never go down.
      const sizes = (await stores[1]!.checkpoints()).map((c) => c.size);
      expect(sizes.length).toBeGreaterThan(0);
      expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it(
    'two writer processes and this one append at once: every record once, at its acknowledged index; the head signs the whole log, verify passes',
    { timeout: 60_000 },
    async () => {
      const schema = schemas.next();
      const key = generateSignerKey(ORIGIN);
      const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
      try {
        // The schema exists before the processes start, as after a gateway's first open.
        await store.size();
        const sequencer = new Sequencer(key, ORIGIN);
        const mine = callsOf('parent', 150);
        const here = async () => {
          const acknowledged = new Map<string, number>();
          for (let at = 0; at < mine.length; at += 5) {
            const part = mine.slice(at, at + 5);
            const { indexes } = await store.append(part, { sequencer });
            part.forEach((e, i) => acknowledged.set(e.id, indexes[i]!));
          }
          return acknowledged;
        };
        const children = [childWriter(schema, key, callsOf('p1', 300), 7), childWriter(schema, key, callsOf('p2', 300), 11)];
        await Promise.all(children.map((c) => c.ready));
        for (const c of children) c.go();
        const results = await Promise.all([...children.map((c) => c.done), here()]);
        const acknowledged = new Map(results.flatMap((r) => [...r]));
        expect(acknowledged.size).toBe(750);
        // The processes really did interleave: each one's records are not one run of indexes.
        for (const r of results) expect(span(r)).toBeGreaterThan(r.size);
        await expectWholeLog(store, key, acknowledged, 750);
      } finally {
        await store.close();
      }
    },
  );

  it('a store whose sequencer last signed long ago takes up the head other writers signed since, from its stored frontier', async () => {
    const schema = schemas.next();
    const key = generateSignerKey(ORIGIN);
    const [a, b] = [openPostgresStore({ url: TEST_DATABASE_URL, schema }), openPostgresStore({ url: TEST_DATABASE_URL, schema })];
    const [sa, sb] = [new Sequencer(key, ORIGIN), new Sequencer(key, ORIGIN)];
    try {
      const acknowledged = new Map<string, number>();
      const note = (entries: AppendEntry[], indexes: number[]) => entries.forEach((e, i) => acknowledged.set(e.id, indexes[i]!));
      const first = callsOf('a', 3);
      note(first, (await a.append(first, { sequencer: sa })).indexes);
      for (let i = 0; i < 5; i++) {
        const part = callsOf(`b${i}`, 4);
        note(part, (await b.append(part, { sequencer: sb })).indexes);
      }
      const last = callsOf('a-again', 2);
      expect((await a.append(last, { sequencer: sa })).indexes).toEqual([23, 24]);
      note(last, [23, 24]);
      await expectWholeLog(a, key, acknowledged, 25);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('the log head only moves forward, with a new signed head, and never loses its note; a transaction that would leave a gap is refused at commit', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      await store.append(callsOf('w', 1), { sequencer: new Sequencer(generateSignerKey(ORIGIN), ORIGIN) });
    } finally {
      await store.close();
    }
    const { writer } = rolesOf(schema);
    await withClient(async (client) => {
      const asWriter = async (sql: string) => {
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL ROLE "${writer}"`);
          await client.query(sql);
          await client.query('COMMIT');
          return 'ok';
        } catch (err) {
          await client.query('ROLLBACK');
          return (err as Error).message;
        }
      };
      expect(await asWriter(`UPDATE "${schema}".log_head SET size = 0, note = 'x'`)).toMatch(/only moves forward/);
      expect(await asWriter(`UPDATE "${schema}".log_head SET note = NULL, frontier = NULL`)).toMatch(/signed head of the log is never removed/);
      // What a writer of a version before signed heads does to number its batch.
      expect(await asWriter(`UPDATE "${schema}".log_head SET size = size + 1`)).toMatch(
        /moved without a new signed head: a writer of a version before signed heads .*upgrade it/,
      );
      expect(await asWriter(`UPDATE "${schema}".log_head SET size = size + 5, note = 'x'`)).toMatch(/does not match the leaves/);
      expect(await asWriter(`DELETE FROM "${schema}".log_head`)).toMatch(/permission denied/);
      expect(await asWriter(`INSERT INTO "${schema}".batch_seals (first_idx, note) VALUES (1, 'x')`)).toMatch(/permission denied/);
      expect((await client.query(`SELECT size FROM "${schema}".log_head`)).rows[0].size).toBe('1');
    });
  });
});

describe('many ledgers on one PostgreSQL log', () => {
  it('three ledgers record at once: indexes are gap-free, each record is stored once at its receipt index, proofs and verify pass', async () => {
    const schema = schemas.next();
    const { open, warnings } = opener(schema);
    const first = await open();
    const ledgers = [first, await open(), await open()];
    const receipts = await Promise.all(
      ledgers.flatMap((ledger, w) => Array.from({ length: 300 }, (_, i) => ledger.record(sampleCall(i, { requestId: `w${w}-${i}` })))),
    );
    const indexes = receipts.map((r) => r.index).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 900 }, (_, i) => i));
    for (const receipt of receipts.filter((_, i) => i % 97 === 0)) {
      expect((await first.get(receipt.id))?.index).toBe(receipt.index);
    }
    // Any ledger proves any record, whichever process wrote it.
    const bundle = await ledgers[2]!.prove(receipts[5]!.id);
    expect(verifyProof(bundle).ok).toBe(true);
    for (const ledger of ledgers) await ledger.close();

    const reader = await open(true);
    const report = await reader.verify();
    expect(report).toMatchObject({ ok: true, size: 900, verifiedSize: 900 });
    expect(report.anchoredCheckpointsChecked).toBeGreaterThan(0);
    await reader.close();
    expect(warnings).toEqual([]);
  });

  it('a ledger opened while others write can record at once', async () => {
    const schema = schemas.next();
    const { open, warnings } = opener(schema);
    const busy = await open();
    let writing = true;
    const load = (async () => {
      for (let i = 0; writing; i++) await Promise.all(Array.from({ length: 20 }, (_, j) => busy.record(sampleCall(i * 20 + j))));
    })();
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const late = await open();
        expect((await late.record(sampleCall(10_000 + attempt))).index).toBeGreaterThan(0);
        await late.close();
      }
    } finally {
      writing = false;
      await load;
    }
    await busy.close();
    const reader = await open(true);
    expect(await reader.verify()).toMatchObject({ ok: true });
    await reader.close();
    expect(warnings).toEqual([]);
  });

  it('a log that contradicts its signed head is never signed again: a ledger opened on it refuses to record, naming why', async () => {
    const schema = schemas.next();
    const { open } = opener(schema);
    const first = await open();
    for (let i = 0; i < 3; i++) await first.record(sampleCall(i));
    await first.close();
    await withClient(async (client) => {
      await client.query(`ALTER TABLE "${schema}".leaves DISABLE TRIGGER leaves_append_only`);
      await client.query(`UPDATE "${schema}".leaves SET hash = sha256('forged') WHERE idx = 1`);
      await client.query(`ALTER TABLE "${schema}".leaves ENABLE ALWAYS TRIGGER leaves_append_only`);
    });
    const ledger = await open();
    await expect(ledger.record(sampleCall(3))).rejects.toThrow(/does not match its (signed head|newest checkpoint) \(size 3\)/);
    await ledger.close().catch(() => undefined);
    const head = await withClient(async (client) => (await client.query(`SELECT size FROM "${schema}".log_head`)).rows[0].size);
    expect(head).toBe('3');
  });

  it('an instance with another signing key appends nothing: the stored head and checkpoints are not its own', async () => {
    const schema = schemas.next();
    const right = opener(schema);
    const first = await right.open();
    await first.record(sampleCall(0));
    await first.close();
    const misconfigured = await opener(schema).open();
    await expect(misconfigured.record(sampleCall(1))).rejects.toThrow(/does not verify/);
    await misconfigured.close().catch(() => undefined);
    const reader = await right.open(true);
    expect(await reader.verify()).toMatchObject({ ok: true, size: 1, verifiedSize: 1 });
    await reader.close();
  });
});

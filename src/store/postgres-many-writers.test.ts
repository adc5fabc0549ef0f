import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { openLedger } from '../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../ledger/test-support/fixtures.js';
import { verifyProof } from '../log/proof.js';
import { openPostgresStore } from './postgres-store.js';
import { rolesOf } from './postgres-schema.js';
import { entriesFor } from './test-support/conformance.js';
import { sealer, TEST_DATABASE_URL, TestSchemas, withClient } from './test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

/** Ledgers that share one schema, signing key and anchor, as gateway instances on one database do. */
function opener(schema: string, intervalMs = 50, dir = tempDir()) {
  const warnings: string[] = [];
  const config = configSchema(dir).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: intervalMs, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
  return { dir, warnings, open: (readOnly = false) => openLedger(config, { onWarning: (m) => warnings.push(m), readOnly }) };
}

/** The integrator's session, if any: the holder of the schema's advisory lock. */
async function integratorPids(schema: string): Promise<number[]> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid::int = hashtext('llm-ledger:integrator') AND l.objid::int = hashtext($1) AND l.objsubid = 2`,
      [schema],
    );
    return rows.map((r) => r.pid);
  });
}

describe('many writers on one PostgreSQL log', () => {
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
    // Exactly one process integrates.
    expect(await integratorPids(schema)).toHaveLength(1);
    // Any ledger proves any record, whichever process wrote it.
    const bundle = await ledgers[2]!.prove(receipts[5]!.id);
    expect(verifyProof(bundle).ok).toBe(true);
    for (const ledger of ledgers) await ledger.close();
    expect(await integratorPids(schema)).toEqual([]);

    const reader = await open(true);
    const report = await reader.verify();
    expect(report).toMatchObject({ ok: true, size: 900, verifiedSize: 900 });
    expect(report.anchoredCheckpointsChecked).toBeGreaterThan(0);
    await reader.close();
    expect(warnings).toEqual([]);
  });

  it('when the integrator closes, another ledger takes over and extends the same tree', async () => {
    const schema = schemas.next();
    const { open, warnings } = opener(schema, 20);
    const a = await open();
    await a.record(sampleCall(0));
    await a.flush();
    const b = await open();
    const c = await open();
    for (let i = 1; i <= 50; i++) await b.record(sampleCall(i));
    const before = await integratorPids(schema);
    expect(before, warnings.join('\n')).toHaveLength(1);
    await a.close();
    // b or c wins the next election (every 500 ms), rebuilds the tree, and covers what both write.
    await Promise.all([b.record(sampleCall(51)), c.record(sampleCall(52))]);
    await Promise.all([b.flush(), c.flush()]);
    const after = await integratorPids(schema);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    await b.close();
    await c.close();
    const reader = await open(true);
    expect(await reader.verify()).toMatchObject({ ok: true, size: 53, verifiedSize: 53 });
    await reader.close();
    expect(warnings).toEqual([]);
  });

  it('a ledger opened while others write can record at once (opening reads no tree that other writers move)', async () => {
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

  it('a log that contradicts its newest checkpoint is never signed again: records are still taken, flush says why', async () => {
    const schema = schemas.next();
    const { open, warnings } = opener(schema);
    const first = await open();
    for (let i = 0; i < 3; i++) await first.record(sampleCall(i));
    await first.close();
    await withClient(async (client) => {
      await client.query(`ALTER TABLE "${schema}".leaves DISABLE TRIGGER leaves_append_only`);
      await client.query(`UPDATE "${schema}".leaves SET hash = sha256('forged') WHERE idx = 1`);
      await client.query(`ALTER TABLE "${schema}".leaves ENABLE ALWAYS TRIGGER leaves_append_only`);
    });
    const ledger = await open();
    expect((await ledger.record(sampleCall(3))).index).toBe(3);
    await expect(ledger.flush()).rejects.toThrow(/does not match its newest checkpoint \(size 3\)/);
    expect(warnings.join('\n')).toMatch(/no checkpoint is signed until this is investigated/);
    const checkpoints = await withClient(async (client) => (await client.query(`SELECT max(size) AS size FROM "${schema}".checkpoints`)).rows[0].size);
    expect(checkpoints).toBe('3');
    await ledger.close().catch(() => undefined);
  });

  it('an instance with another signing key gives the integrator lock back, and its records never enter the signed log: their seals are not this ledger\'s', async () => {
    const schema = schemas.next();
    const right = opener(schema);
    const first = await right.open();
    await first.record(sampleCall(0));
    await first.close();
    const wrong = opener(schema);
    const misconfigured = await wrong.open();
    expect((await misconfigured.record(sampleCall(1))).index).toBe(1);
    await expect(misconfigured.flush()).rejects.toThrow(/newest checkpoint of .* does not verify/);
    expect(await integratorPids(schema)).toEqual([]);
    const fixed = await opener(schema, 50, right.dir).open();
    await expect(fixed.flush()).rejects.toThrow(/the batch seal at index 1 is not valid.*not stored by a writer of this ledger/);
    await fixed.close().catch(() => undefined);
    await misconfigured.close().catch(() => undefined);
    const reader = await right.open(true);
    expect(await reader.verify()).toMatchObject({ ok: false, size: 2, verifiedSize: 1, firstBadIndex: 1, problems: [expect.objectContaining({ kind: 'unsealed', index: 1 })] });
    await reader.close();
  });

  it('a replayed batch is stored once: records already stored are skipped', async () => {
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema: schemas.next() });
    try {
      const entries = entriesFor([0, 1, 2].map((i) => sampleCall(i))).map(({ index: _index, ...rest }) => rest);
      expect(await store.appendNumbered(entries.slice(0, 2), sealer())).toEqual([0, 1]);
      expect(await store.appendNumbered(entries, { replayed: true, ...sealer() })).toEqual([-1, -1, 2]);
      expect(await store.size()).toBe(3);
      // Outside a replay a record stored twice is an error, not a silent skip.
      await expect(store.appendNumbered(entries.slice(0, 1), sealer())).rejects.toThrow(/duplicate key/);
      expect(await store.size()).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('the log head only moves forward, and a transaction that would leave a gap is refused at commit', async () => {
    const schema = schemas.next();
    const { open } = opener(schema);
    const ledger = await open();
    await ledger.record(sampleCall(0));
    await ledger.close();
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
      expect(await asWriter(`UPDATE "${schema}".log_head SET size = 0`)).toMatch(/only moves forward/);
      expect(await asWriter(`UPDATE "${schema}".log_head SET size = size + 5`)).toMatch(/does not match the leaves/);
      expect(await asWriter(`DELETE FROM "${schema}".log_head`)).toMatch(/permission denied/);
      expect((await client.query(`SELECT size FROM "${schema}".log_head`)).rows[0].size).toBe('1');
    });
  });
});

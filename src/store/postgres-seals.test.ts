import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { openLedger } from '../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../ledger/test-support/fixtures.js';
import { openBatchSeal } from '../log/batch-seal.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from './test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

function ledgerConfig(schema: string, dir = tempDir()) {
  return configSchema(dir).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 50, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
}

/** As the database owner: a row and its leaf at the end of the log, with a correct leaf hash, the log head moved past it. */
async function insertForeignRow(schema: string): Promise<number> {
  return withClient(async (client) => {
    const s = `"${schema}"`;
    const { rows } = await client.query<{ idx: string; canonical: string; ts: Date }>(`SELECT idx, canonical, ts FROM ${s}.records ORDER BY idx DESC LIMIT 1`);
    const last = rows[0]!;
    const at = Number(last.idx) + 1;
    const forged = last.canonical.replace(/"id":"[^"]+"/, '"id":"019b0000-0000-7000-8000-00000000f0f0"');
    await client.query('BEGIN');
    await client.query(`UPDATE ${s}.log_head SET size = size + 1`);
    await client.query(`INSERT INTO ${s}.records (idx, ts, canonical) VALUES ($1, $2, $3)`, [at, last.ts, forged]);
    await client.query(`INSERT INTO ${s}.leaves (idx, hash, id, ts) VALUES ($1, sha256('\\x00'::bytea || convert_to($2, 'UTF8')), $3, $4)`, [at, forged, '019b0000-0000-7000-8000-00000000f0f0', last.ts]);
    await client.query('COMMIT');
    return at;
  });
}

describe('batch seals on a PostgreSQL log', () => {
  it('every batch is committed with a seal signed by the ledger key over its indexes and leaves', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const ledger = await openLedger(config, { onWarning: () => undefined });
    await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.record(sampleCall(i))));
    const seals = await withClient(async (client) => (await client.query<{ first_idx: string; note: string }>(`SELECT first_idx, note FROM "${schema}".batch_seals ORDER BY first_idx`)).rows);
    let next = 0;
    for (const row of seals) {
      const seal = openBatchSeal(row.note, ledger.verifierKey, config.log.origin);
      expect(seal.first).toBe(Number(row.first_idx));
      expect(seal.first).toBe(next);
      next += seal.count;
    }
    expect(next).toBe(20);
    await ledger.close();
  });

  it('a row written into the database while writers run is never signed by the integrator, and verify names its index', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const warnings: string[] = [];
    const ledger = await openLedger(config, { onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 5; i++) await ledger.record(sampleCall(i));
    await ledger.flush();
    const foreign = await insertForeignRow(schema);
    // The gateway goes on writing after it: its records are sealed, the foreign one is not.
    await ledger.record(sampleCall(9));
    await expect(ledger.flush()).rejects.toThrow(new RegExp(`no batch seal covers the record at index ${foreign}.*not stored by a writer of this ledger`));
    expect(warnings.join('\n')).toMatch(/no checkpoint is signed over it or anything after it/);
    const newest = await withClient(async (client) => (await client.query(`SELECT max(size) AS size FROM "${schema}".checkpoints`)).rows[0].size);
    expect(Number(newest)).toBe(foreign);
    await ledger.close().catch(() => undefined);

    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    const report = await reader.verify();
    await reader.close();
    expect(report).toMatchObject({ ok: false, firstBadIndex: foreign, coveredBySignature: foreign });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unsealed', index: foreign })]);
  });

  it('takes a row no seal covers into the log only when an operator accepts it, sealing it with the ledger key', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const first = await openLedger(config, { onWarning: () => undefined });
    for (let i = 0; i < 3; i++) await first.record(sampleCall(i));
    await first.close();
    const foreign = await insertForeignRow(schema);
    const repaired = await openLedger(config, { onWarning: () => undefined, acceptUnsealed: { actor: 'dba@example.com', reason: 'restored by hand from the WAL' } });
    expect(repaired.accepted?.ranges).toEqual([{ from: foreign, to: foreign + 1 }]);
    expect((await repaired.get(repaired.accepted!.recordId))?.envelope).toMatchObject({ eventType: 'unsealed_accepted', user: 'dba@example.com', metadata: { ranges: [[foreign, foreign + 1]], count: 1 } });
    await repaired.record(sampleCall(7));
    await repaired.close();
    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    expect(await reader.verify()).toMatchObject({ ok: true, size: foreign + 3 });
    await reader.close();
  });

  it('a reader verifies records no checkpoint covers yet by their seals', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const writer = await openLedger({ ...config, log: { ...config.log, checkpointIntervalMs: 3_600_000 } }, { onWarning: () => undefined });
    await writer.flush();
    for (let i = 0; i < 4; i++) await writer.record(sampleCall(i));
    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    const report = await reader.verify();
    await reader.close();
    await writer.close();
    expect(report).toMatchObject({ ok: true, size: 4, coveredBySignature: 4 });
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { verifyLog } from '../../ledger/verify.js';
import { NoteSigner, openCheckpoint } from '../../log/checkpoint.js';
import { rootOf } from '../../log/merkle.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { migrate } from './postgres-migrate.js';
import { MIGRATIONS } from './postgres-schema.js';
import { openPostgresStore } from './postgres-store.js';
import { entriesFor } from '../test-support/conformance.js';
import { sealer, TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

const ORIGIN = 'test.example/log';

function ledgerConfig(schema: string, dir = tempDir()) {
  return configSchema(dir).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 50, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
}

/** As the writer role, nothing switched off: a row and its correct leaf after the last one, the log head left where it is. */
async function insertForeignRow(schema: string): Promise<number> {
  return withClient(async (client) => {
    const s = `"${schema}"`;
    const { rows } = await client.query<{ idx: string; canonical: string; ts: Date }>(`SELECT idx, canonical, ts FROM ${s}.records ORDER BY idx DESC LIMIT 1`);
    const last = rows[0]!;
    const at = Number(last.idx) + 1;
    const forged = last.canonical.replace(/"id":"[^"]+"/, '"id":"019b0000-0000-7000-8000-00000000f0f0"');
    await client.query(`SET ROLE "${schema}_writer"`);
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${s}.records (idx, ts, canonical) VALUES ($1, $2, $3)`, [at, last.ts, forged]);
    await client.query(`INSERT INTO ${s}.leaves (idx, hash, id, ts) VALUES ($1, sha256('\\x00'::bytea || convert_to($2, 'UTF8')), $3, $4)`, [
      at,
      forged,
      '019b0000-0000-7000-8000-00000000f0f0',
      last.ts,
    ]);
    await client.query('COMMIT');
    return at;
  });
}

/**
 * A schema as the version before signed heads (schema 5) left it: `count` records numbered
 * through the log head, each batch of `batch` with its signed seal, and a checkpoint of the
 * first `checkpointed` records; no signed head.
 */
async function schemaOfVersion5(schema: string, key: string, count: number, batch: number, checkpointed: number) {
  const entries = entriesFor(Array.from({ length: count }, (_, i) => sampleCall(i)));
  const signer = new NoteSigner(key);
  const { seal } = sealer(signer, ORIGIN);
  await withClient(async (client) => {
    await migrate(
      client,
      schema,
      MIGRATIONS.filter((m) => m.version <= 5),
    );
    const s = `"${schema}"`;
    const days = [...new Set(entries.map((e) => (JSON.parse(e.canonical) as { ts: string }).ts.slice(0, 10)))];
    await client.query(`SELECT ${s}.ensure_partitions($1::date[])`, [days]);
    await client.query(`SET ROLE "${schema}_writer"`);
    for (let first = 0; first < count; first += batch) {
      const part = entries.slice(first, first + batch);
      await client.query('BEGIN');
      await client.query(`UPDATE ${s}.log_head SET size = size + $1`, [part.length]);
      for (const [i, e] of part.entries()) {
        const ts = JSON.parse(e.canonical).ts as string;
        await client.query(`INSERT INTO ${s}.records (idx, ts, canonical) VALUES ($1, $2, $3)`, [first + i, ts, e.canonical]);
        await client.query(`INSERT INTO ${s}.leaves (idx, hash, id, ts) VALUES ($1, $2, $3, $4)`, [first + i, e.leafHash, e.id, ts]);
      }
      await client.query(`INSERT INTO ${s}.batch_seals (first_idx, note) VALUES ($1, $2)`, [
        first,
        seal(
          first,
          part.map((e) => e.leafHash),
        ),
      ]);
      await client.query('COMMIT');
    }
    const note = signer.sign({ origin: ORIGIN, size: checkpointed, root: rootOf(entries.slice(0, checkpointed).map((e) => e.leafHash)) });
    await client.query(`INSERT INTO ${s}.checkpoints (size, note) VALUES ($1, $2)`, [checkpointed, note]);
  });
  return entries;
}

describe('the signed head of a PostgreSQL log', () => {
  it('a schema written before signed heads verifies by its checkpoints and batch seals, and its first batch since signs a head over the whole log', async () => {
    const schema = schemas.next();
    const key = generateSignerKey(ORIGIN);
    const sequencer = new Sequencer(key, ORIGIN);
    const options = { origin: ORIGIN, verifierKey: sequencer.verifierKey };
    const old = await schemaOfVersion5(schema, key, 10, 3, 6);
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      expect(await store.head()).toBeUndefined();
      // Records 6..9 are covered by the seals of their batches alone.
      expect(await verifyLog(store, options)).toMatchObject({ ok: true, size: 10, verifiedSize: 6, coveredBySignature: 10 });
      const next = entriesFor([sampleCall(10), sampleCall(11)]);
      const appended = await store.append(next, { sequencer });
      expect(appended.indexes).toEqual([10, 11]);
      expect(await store.head()).toEqual(appended.head);
      const leaves = [...old, ...next].map((e) => e.leafHash);
      expect(openCheckpoint(appended.head.note, sequencer.verifierKey, ORIGIN).root.equals(rootOf(leaves))).toBe(true);
      const frontier = await withClient(async (client) => (await client.query(`SELECT frontier FROM "${schema}".log_head`)).rows[0].frontier);
      expect(frontier).toEqual(expect.any(String));
      // Another sequencer takes the head up from its frontier, and extends it.
      expect((await store.append(entriesFor([sampleCall(12)]), { sequencer: new Sequencer(key, ORIGIN) })).indexes).toEqual([12]);
      expect(await verifyLog(store, options)).toMatchObject({ ok: true, size: 13, verifiedSize: 13, coveredBySignature: 13 });
    } finally {
      await store.close();
    }
  });

  it('a schema written before signed heads reports the records from a seal that is missing as unsealed', async () => {
    const schema = schemas.next();
    const key = generateSignerKey(ORIGIN);
    await schemaOfVersion5(schema, key, 9, 3, 3);
    await withClient((client) =>
      client.query(`ALTER TABLE "${schema}".batch_seals DISABLE TRIGGER USER; DELETE FROM "${schema}".batch_seals WHERE first_idx = 6`),
    );
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const report = await verifyLog(store, { origin: ORIGIN, verifierKey: new Sequencer(key, ORIGIN).verifierKey });
      expect(report).toMatchObject({ ok: false, firstBadIndex: 6, problems: [expect.objectContaining({ kind: 'unsealed', index: 6 })] });
    } finally {
      await store.close();
    }
  });

  it('a row written into the database beyond the signed head is reported by verify, and no ledger appends over it', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const ledger = await openLedger(config, { onWarning: () => undefined });
    for (let i = 0; i < 5; i++) await ledger.record(sampleCall(i));
    const foreign = await insertForeignRow(schema);
    // A ledger already open fails its next batch: the row takes the index the head gives it.
    await expect(ledger.record(sampleCall(9))).rejects.toThrow(/duplicate key/);
    await ledger.close().catch(() => undefined);
    const reopened = await openLedger(config, { onWarning: () => undefined });
    await expect(reopened.record(sampleCall(10))).rejects.toThrow(
      new RegExp(`records from index ${foreign} to ${foreign} that no signed head or checkpoint covers`),
    );
    await reopened.close().catch(() => undefined);

    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    const report = await reader.verify();
    await reader.close();
    expect(report).toMatchObject({ ok: false, firstBadIndex: foreign, coveredBySignature: foreign });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unsealed', index: foreign })]);
  });

  it('takes a row beyond the head into the log only when an operator accepts it; the next head signs over it', async () => {
    const schema = schemas.next();
    const config = ledgerConfig(schema);
    const first = await openLedger(config, { onWarning: () => undefined });
    for (let i = 0; i < 3; i++) await first.record(sampleCall(i));
    await first.close();
    const foreign = await insertForeignRow(schema);
    const repaired = await openLedger(config, {
      onWarning: () => undefined,
      acceptUnsealed: { actor: 'dba@example.com', reason: 'restored by hand from the WAL' },
    });
    expect(repaired.accepted?.ranges).toEqual([{ from: foreign, to: foreign + 1 }]);
    expect((await repaired.get(repaired.accepted!.recordId))?.envelope).toMatchObject({
      eventType: 'unsealed_accepted',
      user: 'dba@example.com',
      metadata: { ranges: [[foreign, foreign + 1]], count: 1 },
    });
    await repaired.record(sampleCall(7));
    await repaired.close();
    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    expect(await reader.verify()).toMatchObject({ ok: true, size: foreign + 3 });
    await reader.close();
  });

  it('a reader verifies records no checkpoint covers yet by the signed head', async () => {
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

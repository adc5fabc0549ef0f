import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { configSchema } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { rolesOf } from './postgres-schema.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

function openPostgresLedger(dir: string, schema: string): Promise<Ledger> {
  const config = configSchema(dir).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
  return openLedger(config, { onWarning: () => undefined });
}

/** A ledger of `count` calls, one a day from 2026-01-01, in a schema of its own. */
async function ledgerOf(count: number): Promise<{ dir: string; schema: string }> {
  const dir = tempDir();
  const schema = schemas.next();
  const ledger = await openPostgresLedger(dir, schema);
  for (let i = 0; i < count; i++) await ledger.record(sampleCall(i, { timestamp: `2026-01-${String(i + 1).padStart(2, '0')}T12:00:00.000Z` }));
  await ledger.close();
  return { dir, schema };
}

async function verifyOf(dir: string, schema: string) {
  const ledger = await openPostgresLedger(dir, schema);
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

/** Runs `sql` as `role` in a transaction that is always rolled back; resolves with the error message, or 'ok'. */
async function attempt(client: pg.Client, role: string, sql: string, setup = ''): Promise<string> {
  await client.query('BEGIN');
  try {
    if (setup) await client.query(setup);
    await client.query(`SET LOCAL ROLE "${role}"`);
    await client.query(sql);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.query('ROLLBACK');
  }
}

describe('PostgreSQL append-only enforcement, in depth', () => {
  let ledger: { dir: string; schema: string };
  beforeAll(async () => {
    ledger = await ledgerOf(4);
  });

  const tables = ['records', 'leaves', 'checkpoints', 'pruned'];
  const COLUMN: Record<string, string> = { records: 'idx', leaves: 'idx', checkpoints: 'size', pruned: 'below' };

  it.each(tables)('the writer role may not UPDATE, DELETE or TRUNCATE %s: it lacks the privilege', async (table) => {
    const { writer } = rolesOf(ledger.schema);
    await withClient(async (client) => {
      const column = COLUMN[table]!;
      for (const sql of [
        `UPDATE "${ledger.schema}".${table} SET ${column} = ${column}`,
        `DELETE FROM "${ledger.schema}".${table}`,
        `TRUNCATE "${ledger.schema}".${table}`,
      ]) {
        expect(await attempt(client, writer, sql), sql).toMatch(/permission denied/);
      }
    });
  });

  it('the writer may not alter or drop tables, or reach a partition directly', async () => {
    const { writer } = rolesOf(ledger.schema);
    await withClient(async (client) => {
      expect(await attempt(client, writer, `ALTER TABLE "${ledger.schema}".records DISABLE TRIGGER ALL`)).toMatch(/must be owner/);
      expect(await attempt(client, writer, `DROP TABLE "${ledger.schema}".records_20260102`)).toMatch(/must be owner/);
      expect(await attempt(client, writer, `DELETE FROM "${ledger.schema}".records_20260102`)).toMatch(/permission denied/);
      expect(await attempt(client, writer, `INSERT INTO "${ledger.schema}".records (idx, ts, canonical) VALUES (99, now(), '{}')`)).not.toMatch(
        /permission denied/,
      );
    });
  });

  it('the reader role may only read', async () => {
    const { reader } = rolesOf(ledger.schema);
    await withClient(async (client) => {
      expect(await attempt(client, reader, `SELECT count(*) FROM "${ledger.schema}".records`)).toBe('ok');
      expect(await attempt(client, reader, `INSERT INTO "${ledger.schema}".checkpoints (size, note) VALUES (1, 'x')`)).toMatch(/permission denied/);
      expect(await attempt(client, reader, `DELETE FROM "${ledger.schema}".content`)).toMatch(/permission denied/);
    });
  });

  it.each(tables)('even the owner, who holds every privilege, is refused UPDATE, DELETE and TRUNCATE of %s by the triggers', async (table) => {
    const { owner } = rolesOf(ledger.schema);
    await withClient(async (client) => {
      const column = COLUMN[table]!;
      // The ledger has not pruned, so pruned gets a row (in the rolled-back transaction) for its row triggers to fire on.
      const setup = `INSERT INTO "${ledger.schema}".pruned (below) VALUES (1)`;
      for (const sql of [
        `UPDATE "${ledger.schema}".${table} SET ${column} = ${column}`,
        `DELETE FROM "${ledger.schema}".${table}`,
        `TRUNCATE "${ledger.schema}".${table}`,
      ]) {
        expect(await attempt(client, owner, sql, setup), sql).toMatch(/append-only; (UPDATE|DELETE|TRUNCATE) is refused/);
      }
    });
  });

  it('TRUNCATE is refused on every partition, and the triggers fire even with session_replication_role = replica', async () => {
    const { owner } = rolesOf(ledger.schema);
    await withClient(async (client) => {
      const { rows } = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '"${ledger.schema}".records'::regclass ORDER BY 1`,
      );
      expect(rows.length).toBeGreaterThan(4);
      for (const { name } of rows)
        expect(await attempt(client, owner, `TRUNCATE "${ledger.schema}".${name}`), name).toMatch(/append-only; TRUNCATE is refused/);
      // Replica mode silences ordinary triggers (it is meant for replication); ENABLE ALWAYS ones still fire.
      const replica = 'SET LOCAL session_replication_role = replica';
      expect(await attempt(client, owner, `UPDATE "${ledger.schema}".records_20260102 SET canonical = canonical`, replica)).toMatch(
        /append-only; UPDATE is refused/,
      );
      expect(await attempt(client, owner, `DELETE FROM "${ledger.schema}".leaves`, replica)).toMatch(/append-only; DELETE is refused/);
      expect(await attempt(client, owner, `TRUNCATE "${ledger.schema}".records_20260103`, replica)).toMatch(/append-only; TRUNCATE is refused/);
    });
  });

  it('retention may delete records only below the pruning horizon, which only moves forward', async () => {
    const { retention } = rolesOf(ledger.schema);
    const s = `"${ledger.schema}"`;
    await withClient(async (client) => {
      expect(await attempt(client, retention, `DELETE FROM ${s}.records WHERE idx = 1`)).toMatch(/only retention deletes, below the pruning horizon/);
      expect(await attempt(client, retention, `INSERT INTO ${s}.pruned (below) VALUES (2); DELETE FROM ${s}.records WHERE idx < 2`)).toBe('ok');
      expect(await attempt(client, retention, `INSERT INTO ${s}.pruned (below) VALUES (2); DELETE FROM ${s}.records WHERE idx = 2`)).toMatch(
        /below the pruning horizon/,
      );
      expect(await attempt(client, retention, `INSERT INTO ${s}.pruned (below) VALUES (2); INSERT INTO ${s}.pruned (below) VALUES (1)`)).toMatch(
        /only moves forward/,
      );
      expect(await attempt(client, retention, `DELETE FROM ${s}.leaves`)).toMatch(/permission denied/);
    });
  });
});

describe('verify on a PostgreSQL ledger, after the owner disabled the triggers', () => {
  /** What an attacker holding the owner role can do: switch the triggers off and rewrite. */
  async function tamper(schema: string, sql: string): Promise<void> {
    const { owner } = rolesOf(schema);
    await withClient(async (client) => {
      await client.query(`SET ROLE "${owner}"`);
      await client.query(`ALTER TABLE "${schema}".records DISABLE TRIGGER USER`);
      await client.query(sql);
      await client.query(`ALTER TABLE "${schema}".records ENABLE ALWAYS TRIGGER records_append_only`);
    });
  }

  it('passes on an untouched log', async () => {
    const { dir, schema } = await ledgerOf(6);
    expect(await verifyOf(dir, schema)).toMatchObject({ ok: true, size: 6, problems: [], verifiedSize: 6 });
  });

  it('names the index of a changed field', async () => {
    const { dir, schema } = await ledgerOf(6);
    await tamper(schema, `UPDATE "${schema}".records SET canonical = replace(canonical, '"model":"gpt-4o"', '"model":"gpt-3.5"') WHERE idx = 4`);
    const report = await verifyOf(dir, schema);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(4);
    expect(report.problems[0]).toMatchObject({ kind: 'changed', index: 4 });
  });

  it('names the index of a deleted record', async () => {
    const { dir, schema } = await ledgerOf(6);
    await tamper(schema, `DELETE FROM "${schema}".records WHERE idx = 2`);
    const report = await verifyOf(dir, schema);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(2);
    expect(report.problems.map((p) => p.kind)).toContain('missing');
  });
});

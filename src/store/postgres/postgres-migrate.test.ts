import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { migrate, schemaVersion } from './postgres-migrate.js';
import { MIGRATIONS, POSTGRES_SCHEMA_VERSION, type Migration } from './postgres-schema.js';
import { openPostgresStore } from './postgres-store.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

/** Runs `migrate` on a connection of its own, as a separate process would. */
async function migrateAlone(schema: string, migrations: readonly Migration[] = MIGRATIONS) {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await migrate(client, schema, migrations);
  } finally {
    await client.end();
  }
}

const appliedVersions = (schema: string) =>
  withClient(async (client) =>
    (await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows.map((r) => r.version),
  );

describe('PostgreSQL migrations', () => {
  it('create a new schema at the current version, and find nothing to do the second time', async () => {
    const schema = schemas.next();
    expect(await migrateAlone(schema)).toEqual({ from: 0, to: POSTGRES_SCHEMA_VERSION });
    expect(await migrateAlone(schema)).toEqual({ from: POSTGRES_SCHEMA_VERSION, to: POSTGRES_SCHEMA_VERSION });
    expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('run from six connections at once on a new schema: one migrates, the others wait and find it done', async () => {
    const schema = schemas.next();
    const results = await Promise.all(Array.from({ length: 6 }, () => migrateAlone(schema)));
    expect(results.filter((r) => r.from === 0)).toHaveLength(1);
    expect(results.every((r) => r.to === POSTGRES_SCHEMA_VERSION)).toBe(true);
    expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('stores opened at the same moment on a new schema all work, and see one log', async () => {
    const schema = schemas.next();
    const stores = Array.from({ length: 4 }, () => openPostgresStore({ url: TEST_DATABASE_URL, schema }));
    try {
      expect(await Promise.all(stores.map((s) => s.size()))).toEqual([0, 0, 0, 0]);
      const { head } = await stores[0]!.append([], { sequencer: new Sequencer(generateSignerKey('test.example/log'), 'test.example/log'), checkpoint: true });
      expect(head.size).toBe(0);
      expect(await stores[3]!.checkpoints()).toEqual([head]);
      expect(await stores[2]!.head()).toEqual(head);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('apply only the versions a schema lacks, in order, each once, even when run concurrently', async () => {
    const schema = schemas.next();
    await migrateAlone(schema);
    const next: Migration = { version: POSTGRES_SCHEMA_VERSION + 1, name: 'test: a later column', sql: (s) => `CREATE TABLE "${s}".later (n integer)` };
    const results = await Promise.all(Array.from({ length: 3 }, () => migrateAlone(schema, [...MIGRATIONS, next])));
    expect(results.filter((r) => r.from === POSTGRES_SCHEMA_VERSION)).toHaveLength(1);
    expect(await appliedVersions(schema)).toEqual([...MIGRATIONS.map((m) => m.version), next.version]);
  });

  it('upgrade a version 1 schema that holds a log: the head starts at its size, its partitions compress with lz4 and keep compressed records in their rows', async () => {
    const schema = schemas.next();
    await migrateAlone(schema, MIGRATIONS.slice(0, 1));
    await withClient(async (client) => {
      await client.query(`SELECT "${schema}".ensure_partitions(ARRAY['2026-01-01'::date])`);
      await client.query(`INSERT INTO "${schema}".leaves (idx, hash, id, ts) SELECT i, sha256(i::text::bytea), 'id-' || i, now() FROM generate_series(0, 2) i`);
    });
    await migrateAlone(schema);
    expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
    await withClient(async (client) => {
      expect((await client.query(`SELECT size FROM "${schema}".log_head`)).rows).toEqual([{ size: '3' }]);
      const { rows } = await client.query<{ attcompression: string }>(
        `SELECT DISTINCT a.attcompression FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname IN ('canonical', 'envelope')`,
        [`"${schema}".records_20260101`],
      );
      expect(rows).toEqual([{ attcompression: 'l' }]);
      const options = await client.query(`SELECT reloptions FROM pg_class WHERE oid = $1::regclass`, [`"${schema}".records_20260101`]);
      expect(options.rows).toEqual([{ reloptions: ['toast_tuple_target=2600'] }]);
    });
  });

  it('refuse a schema written by a newer version, saying to upgrade', async () => {
    const schema = schemas.next();
    await migrateAlone(schema);
    await withClient((client) => client.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (999, 'from the future')`));
    await expect(migrateAlone(schema)).rejects.toThrow(/written by a newer llm-ledger \(schema 999.*upgrade llm-ledger/);
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    await expect(store.size()).rejects.toThrow(/newer llm-ledger/);
    await store.close();
  });

  it('leave a failed migration without a trace: the transaction rolls back as a whole', async () => {
    const schema = schemas.next();
    const broken: Migration = { version: 1, name: 'broken', sql: (s) => `CREATE TABLE "${s}".half (n integer); SELECT no_such_function()` };
    await expect(migrateAlone(schema, [broken])).rejects.toThrow(
      /cannot migrate PostgreSQL schema .* to version 1: function no_such_function\(\) does not exist/,
    );
    expect(await withClient((client) => schemaVersion(client, schema))).toBe(0);
  });

  it('name the server that cannot be reached, without its password', async () => {
    const store = openPostgresStore({ url: 'postgres://ledger:planted-secret@127.0.0.1:1/audit', schema: 'llm_ledger' });
    const error = await store.size().catch((err: Error) => err);
    await store.close();
    expect(String(error)).toMatch(/cannot open postgres:\/\/ledger@127\.0\.0\.1:1\/audit \(schema llm_ledger\): .*ECONNREFUSED/);
    expect(String(error)).not.toContain('planted-secret');
    expect(store.location).not.toContain('planted-secret');
  });
});

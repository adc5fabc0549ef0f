import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import type { RecordInput } from '../../record/types.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
/** Numbers and signs the batches these tests append straight to a store, as a ledger's writer does. */
const request = { sequencer: new Sequencer(generateSignerKey('test.example/log'), 'test.example/log') };
const DAYS = ['2026-03-01', '2026-03-02', '2026-03-03'];
const PER_DAY = 1500;

/** 4,500 calls over three days, 50 users, 2 models: enough rows that PostgreSQL's own statistics favour the indexes. */
function calls(): RecordInput[] {
  return DAYS.flatMap((day, d) =>
    Array.from({ length: PER_DAY }, (_, i) => ({
      timestamp: new Date(Date.parse(`${day}T00:00:00.000Z`) + i * 50_000).toISOString(),
      model: i % 2 ? 'gpt-4o' : 'claude-sonnet-4',
      provider: i % 2 ? 'openai' : 'anthropic',
      user: `user-${(d * PER_DAY + i) % 50}`,
      status: 'success' as const,
      inputTokens: i,
      traceId: `trace-${d}-${i}`,
    })),
  );
}

describe('PostgreSQL search and stats are answered from indexes', () => {
  let store: PostgresStore;
  let schema: string;
  beforeAll(async () => {
    schema = schemas.next();
    store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    const entries = entriesFor(calls());
    for (let i = 0; i < entries.length; i += 1000) await store.append(entries.slice(i, i + 1000), request);
    await withClient((client) => client.query(`ANALYZE "${schema}".records`));
  });
  afterAll(async () => {
    await store.close();
    await schemas.dropAll();
  });

  it('walks the user index backwards for a search, newest first, with no table scan', async () => {
    const [plan] = await store.explain(() => store.search({ user: 'user-7' }, { limit: 20 }));
    expect(plan).toMatch(/Merge Append[\s\S]*Sort Key: records\.idx DESC/);
    for (const day of DAYS)
      expect(plan).toMatch(
        new RegExp(`Index Scan Backward using \\w+ on records_${day.replaceAll('-', '')}\\b[^\\n]*\\n\\s*Index Cond: \\(\\(envelope ->> 'user'`),
      );
    expect(plan).not.toMatch(/Seq Scan|->\s+Sort\s+\(/);
    const found = await store.search({ user: 'user-7' }, { limit: 20 });
    expect(found).toHaveLength(20);
    expect(found.every((r) => r.envelope.user === 'user-7')).toBe(true);
    expect(found.map((r) => r.index)).toEqual([...found.map((r) => r.index)].sort((a, b) => b - a));
  });

  it('reads stats for one trace through its index, with no scan of a partition that holds rows', async () => {
    const plans = await store.explain(async () => {
      for await (const _ of store.statsColumns({ traceId: 'trace-1-77' }, { batchSize: 100 }));
    });
    for (const day of DAYS)
      expect(plans[0]).toMatch(
        new RegExp(`Index Scan using \\w+ on records_${day.replaceAll('-', '')}\\b[^\\n]*\\n\\s*Index Cond: \\(\\(envelope ->> 'traceId'`),
      );
    // Only the empty partitions made ahead are read whole: they have no page to read.
    expect(plans[0]).not.toMatch(/Seq Scan on records_202603/);
  });

  it('reads only the partitions of the days a time range covers', async () => {
    const [plan] = await store.explain(() => store.search({ since: '2026-03-02T06:00:00.000Z', until: '2026-03-02T08:00:00.000Z' }, { limit: 10 }));
    expect(plan).toMatch(/records_20260302/);
    expect(plan).not.toMatch(/records_20260301|records_20260303/);
  });
});

describe('PostgreSQL day partitions', () => {
  afterAll(() => schemas.dropAll());

  const partitionsOf = (schema: string) =>
    withClient(async (client) =>
      (
        await client.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '"${schema}".records'::regclass ORDER BY 1`,
        )
      ).rows.map((r) => r.name),
    );

  it('are ready from yesterday to a week ahead at open, and created on demand for a record of another day', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      await store.size();
      const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
      const ahead = await partitionsOf(schema);
      expect(ahead).toHaveLength(9);
      expect(ahead).toContain(`records_${today}`);
      await store.append(
        entriesFor([
          { timestamp: '2020-02-29T23:59:59.999Z', model: 'm' },
          { timestamp: '2020-03-01T00:00:00.000Z', model: 'm' },
        ]),
        request,
      );
      expect(await partitionsOf(schema)).toEqual(['records_20200229', 'records_20200301', ...ahead]);
      expect((await store.search({ until: '2020-03-01T00:00:00.000Z' }, { limit: 5 })).map((r) => r.index)).toEqual([0]);
    } finally {
      await store.close();
    }
  });

  it('wholly below the pruning horizon are dropped whole, and the drop is recorded', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const day = (d: number, h: number) => ({ timestamp: `2025-05-0${d}T0${h}:00:00.000Z`, model: 'm' });
      await store.append(entriesFor([day(1, 1), day(1, 2), day(2, 1), day(2, 2), day(3, 1)]), request);
      // Below 3: day 1 lies wholly below and is dropped; day 2 straddles the horizon, so its first row is deleted alone.
      expect(await store.pruning.prune(3, 10)).toBe(3);
      expect(await store.pruning.prunedBelow()).toBe(3);
      expect((await store.search({}, { limit: 10 })).map((r) => r.index)).toEqual([4, 3]);
      const parts = await partitionsOf(schema);
      expect(parts).not.toContain('records_20250501');
      expect(parts).toContain('records_20250502');
      const dropped = await withClient(
        async (client) => (await client.query(`SELECT name, first_idx, last_idx, row_count, horizon FROM "${schema}".dropped_partitions`)).rows,
      );
      expect(dropped).toEqual([{ name: 'records_20250501', first_idx: '0', last_idx: '1', row_count: '2', horizon: '3' }]);
      expect(await store.leafHashes(0, 5)).toHaveLength(5);
    } finally {
      await store.close();
    }
  });
});

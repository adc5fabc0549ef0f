import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import type { RecordInput } from '../../record/types.js';
import { migrate } from './postgres-migrate.js';
import { MIGRATIONS, rolesOf } from './postgres-schema.js';
import { openPostgresStore } from './postgres-store.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());
const request = { sequencer: new Sequencer(generateSignerKey('test.example/log'), 'test.example/log') };

/** A ledger on its own PostgreSQL schema; keys and anchor in a temporary directory. */
function openOn(schema: string): Promise<Ledger> {
  const config = configSchema(tempDir()).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
  });
  return openLedger(config, { onWarning: () => undefined });
}

/** The call_events rows, in order. */
const indexRows = (schema: string) =>
  withClient(async (client) =>
    (await client.query<{ event_type: string; idx: string }>(`SELECT event_type, idx FROM "${schema}".call_events ORDER BY idx, event_type`)).rows.map(
      (r) => `${r.idx}:${r.event_type}`,
    ),
  );

/** Runs `work` as one of the schema's roles; as the owner, with call_events' triggers switched off (as someone who owns the schema could). */
function asRole(schema: string, role: keyof ReturnType<typeof rolesOf>, work: (client: pg.Client) => Promise<unknown>) {
  return withClient(async (client) => {
    await client.query(`SET ROLE "${rolesOf(schema)[role]}"`);
    if (role === 'owner') await client.query(`ALTER TABLE "${schema}".call_events DISABLE TRIGGER USER`);
    await work(client);
  });
}

/** How the log reads in these tests, by index. */
const LOG: RecordInput[] = [
  /* 0 */ sampleCall(0, {
    user: 'alice',
    events: [
      { type: 'request_received', at: 0 },
      { type: 'request_blocked', at: 1.5, status: 'blocked' },
    ],
  }),
  /* 1 */ sampleCall(1, {
    user: 'bob',
    events: [
      { type: 'request_received', at: 0 },
      { type: 'routing_start', at: 1 },
      { type: 'routing_success', at: 90 },
      { type: 'request_completed', at: 95 },
    ],
  }),
  /* 2 */ { kind: 'event', eventType: 'request_blocked', user: 'alice', traceId: 'old-1' },
  /* 3 */ { kind: 'event', eventType: 'request_received', user: 'bob', traceId: 'old-2' },
  /* 4 */ sampleCall(4, {
    user: 'bob',
    events: [
      { type: 'routing_attempt_failed', at: 10, status: 'error' },
      { type: 'routing_fallback', at: 11 },
      { type: 'request_blocked', at: 12 },
      { type: 'request_blocked', at: 13 },
    ],
  }),
  /* 5 */ sampleCall(5, { user: 'alice' }),
  /* 6 */ sampleCall(6, { user: 'alice', events: [{ type: 'policy_evaluated', at: 1, metadata: { type: 'pii', outcome: 'ALLOW' } }] }),
];

describe('a PostgreSQL ledger finds records by the events they carry', () => {
  let schema: string;
  let ledger: Ledger;
  beforeAll(async () => {
    schema = schemas.next();
    ledger = await openOn(schema);
    for (const input of LOG) await ledger.record(input);
  });
  afterAll(() => ledger.close());

  const found = async (options: Parameters<Ledger['search']>[0]) => (await ledger.search(options)).records.map((r) => r.index);

  it('indexes each record’s notable event types once, none of the routine ones, nothing of a nested `type`', async () => {
    expect(await indexRows(schema)).toEqual(['0:request_blocked', '4:request_blocked', '4:routing_attempt_failed', '4:routing_fallback']);
  });

  it('finds a notable type carried by calls and recorded as format 1 event records, newest first', async () => {
    expect(await found({ eventType: 'request_blocked' })).toEqual([4, 2, 0]);
    expect(await found({ eventType: 'routing_fallback' })).toEqual([4]);
    expect(await found({ eventType: 'request_escalated' })).toEqual([]);
    expect(await found({ eventType: 'pii' })).toEqual([]);
  });

  it('finds a routine type, which no index holds, in the events and in format 1 event records', async () => {
    expect(await found({ eventType: 'request_received' })).toEqual([3, 1, 0]);
    expect(await found({ eventType: 'routing_success' })).toEqual([1]);
    expect(await found({ eventType: 'policy_evaluated' })).toEqual([6]);
  });

  it('combines the event type with other filters and pages through it', async () => {
    expect(await found({ eventType: 'request_blocked', user: 'alice' })).toEqual([2, 0]);
    expect(await found({ eventType: 'request_blocked', kind: 'llm.call' })).toEqual([4, 0]);
    expect(await found({ eventType: 'request_received', user: 'bob' })).toEqual([3, 1]);
    for (const eventType of ['request_blocked', 'request_received']) {
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.search({ eventType, limit: 1, ...(cursor ? { cursor } : {}) });
        pages.push(page.records.map((r) => r.index));
        cursor = page.nextCursor;
      } while (cursor);
      expect(pages.flat()).toEqual(await found({ eventType }));
      expect(pages.every((page) => page.length <= 1)).toBe(true);
    }
  });

  it('scans and counts by event type as search finds', async () => {
    const scanned: number[] = [];
    for await (const batch of ledger.records({ eventType: 'request_blocked' }, 2)) scanned.push(...batch.map((r) => r.index));
    expect(scanned).toEqual([0, 2, 4]);
    expect((await ledger.stats({ eventType: 'request_blocked' })).totals.requests).toBe(2);
    expect((await ledger.stats({ eventType: 'request_received' })).totals.requests).toBe(2);
  });

  it('verifies, and reports a row taken from the index or added to it', async () => {
    expect((await ledger.verify()).problems).toEqual([]);
    await asRole(schema, 'owner', (client) => client.query(`DELETE FROM "${schema}".call_events WHERE idx = 4 AND event_type = 'routing_fallback'`));
    expect(await found({ eventType: 'routing_fallback' })).toEqual([]);
    let report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^the index of events lacks events that the records at index 4 carry: a search by event type/),
    ]);

    await asRole(schema, 'owner', async (client) => {
      await client.query(
        `INSERT INTO "${schema}".call_events (event_type, idx) VALUES ('routing_fallback', 4), ('request_escalated', 1), ('request_escalated', 99)`,
      );
    });
    expect(await found({ eventType: 'request_escalated' })).toEqual([1]);
    report = await ledger.verify();
    expect(report.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^the index of events lists events that the records at index 1, 99 do not carry/),
    ]);

    await asRole(schema, 'owner', (client) => client.query(`DELETE FROM "${schema}".call_events WHERE event_type = 'request_escalated'`));
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe('PostgreSQL call_events', () => {
  it('is answered from indexes for a notable type: call_events and the format 1 expression index, no table scan', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const inputs: RecordInput[] = Array.from({ length: 3000 }, (_, i) => ({
        timestamp: new Date(Date.parse('2026-03-01T00:00:00.000Z') + i * 60_000).toISOString(),
        model: 'm',
        user: `user-${i % 40}`,
        events: [{ type: 'request_received', at: 0 }, ...(i % 300 === 7 ? [{ type: 'request_blocked', at: 1 }] : []), { type: 'request_completed', at: 2 }],
      }));
      inputs.push({ kind: 'event', eventType: 'request_blocked', timestamp: '2026-03-02T12:00:00.000Z' });
      await store.append(entriesFor(inputs), request);
      await withClient(async (client) => {
        await client.query(`ANALYZE "${schema}".records`);
        await client.query(`ANALYZE "${schema}".call_events`);
      });
      const [plan] = await store.explain(() => store.search({ eventType: 'request_blocked' }, { limit: 5 }));
      // Which side drives (the matches, or the records newest first, merged with them) PostgreSQL
      // decides from how dense the matches are; both are walks of indexes.
      expect(plan).toMatch(/on call_events/);
      expect(plan).toMatch(/Index Scan using \w+ on records_20260301\b[^\n]*\n\s*Index Cond: \(\(envelope ->> 'eventType'::text\) = 'request_blocked'::text\)/);
      expect(plan).not.toMatch(/Seq Scan on records_2026030[123]/);
      const found = await store.search({ eventType: 'request_blocked' }, { limit: 20 });
      expect(found.map((r) => r.index)).toEqual([3000, 2707, 2407, 2107, 1807, 1507, 1207, 907, 607, 307, 7]);
      expect((await store.search({ eventType: 'request_blocked' }, { limit: 3, beforeIndex: 2407 })).map((r) => r.index)).toEqual([2107, 1807, 1507]);
      expect((await store.search({ eventType: 'request_received', user: 'user-3' }, { limit: 2, beforeIndex: 100 })).map((r) => r.index)).toEqual([83, 43]);
      expect(await store.checkEventIndex()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('is append-only: the writer and the reader may not change it, retention deletes only below the pruning horizon', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      await store.append(entriesFor([{ model: 'm', events: [{ type: 'request_blocked', at: 1 }] }]), request);
      const refused = (role: 'writer' | 'reader' | 'retention', sql: string) =>
        expect(asRole(schema, role, (client) => client.query(sql.replaceAll('$s', `"${schema}"`)))).rejects.toThrow();
      await refused('writer', `DELETE FROM $s.call_events`);
      await refused('writer', `UPDATE $s.call_events SET event_type = 'x'`);
      await refused('writer', `TRUNCATE $s.call_events`);
      await refused('reader', `INSERT INTO $s.call_events VALUES ('x', 0)`);
      await expect(asRole(schema, 'retention', (client) => client.query(`DELETE FROM "${schema}".call_events`))).rejects.toThrow(
        /call_events is append-only; DELETE is refused \(only retention deletes, below the pruning horizon\)/,
      );
      // ENABLE ALWAYS: a session that silences ordinary triggers is refused too.
      await expect(
        withClient(async (client) => {
          await client.query('SET session_replication_role = replica');
          await client.query(`DELETE FROM "${schema}".call_events`);
        }),
      ).rejects.toThrow(/call_events is append-only/);
      expect(await indexRows(schema)).toEqual(['0:request_blocked']);
    } finally {
      await store.close();
    }
  });

  it('loses the rows of the records retention prunes, whether their partition is dropped or they are deleted', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const blocked = (timestamp: string): RecordInput => ({
        timestamp,
        model: 'm',
        events: [
          { type: 'request_blocked', at: 0 },
          { type: 'routing_fallback', at: 1 },
        ],
      });
      await store.append(
        entriesFor([
          blocked('2025-05-01T01:00:00.000Z'),
          blocked('2025-05-02T01:00:00.000Z'),
          // Within day 1's partition, though after day 2's record in the log: the drop must take its rows by record, not by range.
          blocked('2025-05-01T02:00:00.000Z'),
          blocked('2025-05-02T02:00:00.000Z'),
          blocked('2025-05-03T01:00:00.000Z'),
        ]),
        request,
      );
      // Below 3: day 1 (records 0 and 2) is dropped whole; day 2 straddles the horizon, so record 1 is deleted alone.
      expect(await store.pruning.prune(3, 10)).toBe(3);
      expect(await indexRows(schema)).toEqual(['3:request_blocked', '3:routing_fallback', '4:request_blocked', '4:routing_fallback']);
      expect((await store.search({ eventType: 'request_blocked' }, { limit: 10 })).map((r) => r.index)).toEqual([4, 3]);
      expect(await store.checkEventIndex()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('comes with the upgrade of a version 6 schema: old event records stay searchable, records carrying events are indexed', async () => {
    const schema = schemas.next();
    await withClient((client) => migrate(client, schema, MIGRATIONS.slice(0, 6)));
    const entries = entriesFor([
      { kind: 'event', eventType: 'request_blocked', timestamp: '2026-02-01T00:00:00.000Z', traceId: 't0' },
      { kind: 'event', eventType: 'request_received', timestamp: '2026-02-01T00:00:01.000Z', traceId: 't0' },
      { model: 'm', timestamp: '2026-02-01T00:00:02.000Z', traceId: 't0' },
      // None was written before format 2; were one, the upgrade would index it.
      {
        model: 'm',
        timestamp: '2026-02-01T00:00:03.000Z',
        events: [
          { type: 'request_received', at: 0 },
          { type: 'request_escalated', at: 1 },
        ],
      },
    ]);
    await withClient(async (client) => {
      await client.query(`SELECT "${schema}".ensure_partitions(ARRAY['2026-02-01'::date])`);
      for (const [idx, e] of entries.entries()) {
        const ts = JSON.parse(e.canonical).ts as string;
        await client.query(`INSERT INTO "${schema}".records (idx, ts, canonical) VALUES ($1, $2, $3)`, [idx, ts, e.canonical]);
      }
    });
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      expect(await store.size()).toBe(4);
      expect(await indexRows(schema)).toEqual(['3:request_escalated']);
      const found = async (eventType: string) => (await store.search({ eventType }, { limit: 10 })).map((r) => r.index);
      expect(await found('request_blocked')).toEqual([0]);
      expect(await found('request_received')).toEqual([3, 1]);
      expect(await found('request_escalated')).toEqual([3]);
      expect(await store.checkEventIndex()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

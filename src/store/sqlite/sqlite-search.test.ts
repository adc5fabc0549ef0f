import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordInput } from '../../record/types.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import type { SearchFilter } from '../store.js';
import { entriesFor, testWriter } from '../test-support/conformance.js';

// 5,000 rows: more than the newest rows a time-range search checks first (2,048), so both of its
// steps run. Row i is at minute i; rows 4990.. are back-dated to 2025, as a client may do.
const ROWS = 5000;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();
const input = (i: number): RecordInput => ({
  timestamp: i >= 4990 ? `2025-06-01T00:00:0${i - 4990}.000Z` : at(i),
  model: i % 2 ? 'claude-sonnet-4' : 'gpt-4o',
  provider: i % 2 ? 'anthropic' : 'openai',
  user: `user-${i % 7}`,
  session: `session-${i % 11}`,
  conversation: `conv-${i % 13}`,
  // 100 distinct stored key prefixes (sk-00000 .. sk-00099), more than a search merges one by one.
  apiKey: `sk-${String(i % 100).padStart(5, '0')}-abcdefghijklmnopqrstuvwxyz`,
  status: i % 10 === 0 ? 'error' : 'success',
  traceId: `trace-${Math.floor(i / 4)}`,
  requestId: `req-${i}`,
  inputTokens: i,
});

let store: SqliteStore;
let file = '';
const inputs = Array.from({ length: ROWS }, (_, i) => input(i));

beforeAll(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'llm-ledger-search-')), 'ledger.db');
  store = openSqliteStore(file);
  const entries = entriesFor(inputs);
  const writer = testWriter();
  for (let i = 0; i < ROWS; i += 1000) await writer.append(store, entries.slice(i, i + 1000));
});
afterAll(async () => {
  await store.close();
});

/** What a store without a query engine would answer: the reference for every plan below. */
function expected(filter: SearchFilter, limit: number, beforeIndex = ROWS): number[] {
  const matches = (r: RecordInput, i: number) =>
    i < beforeIndex &&
    (filter.since === undefined || (r.timestamp as string) >= filter.since) &&
    (filter.until === undefined || (r.timestamp as string) < filter.until) &&
    (filter.model === undefined || r.model === filter.model) &&
    (filter.keyPrefix === undefined || (r.apiKey as string).startsWith(filter.keyPrefix));
  return inputs
    .map((r, i) => (matches(r, i) ? i : -1))
    .filter((i) => i >= 0)
    .reverse()
    .slice(0, limit);
}

const indexes = async (filter: SearchFilter, limit = 20, beforeIndex?: number) =>
  (await store.search(filter, { limit, ...(beforeIndex === undefined ? {} : { beforeIndex }) })).map((r) => r.index);

describe('SQLite search plans', () => {
  const single: [string, SearchFilter, RegExp][] = [
    ['no filter', {}, /^SEARCH records USING INTEGER PRIMARY KEY \(rowid<\?\)$/],
    ['model', { model: 'gpt-4o' }, /USING INDEX records_model \(model=\? AND rowid<\?\)/],
    ['provider', { provider: 'openai' }, /USING INDEX records_provider \(provider=\? AND rowid<\?\)/],
    ['user', { user: 'user-3' }, /USING INDEX records_user_id \(user_id=\? AND rowid<\?\)/],
    ['session', { session: 'session-3' }, /USING INDEX records_session_id/],
    ['conversation', { conversation: 'conv-3' }, /USING INDEX records_conversation_id/],
    ['status', { status: 'error' }, /USING INDEX records_status/],
    ['kind', { kind: 'llm.call' }, /USING INDEX records_kind/],
    ['eventType', { eventType: 'x' }, /USING INDEX records_event_type/],
    ['traceId', { traceId: 'trace-3' }, /USING INDEX records_trace_id/],
    ['requestId', { requestId: 'req-3' }, /USING INDEX records_request_id/],
    ['a whole key prefix', { keyPrefix: 'sk-00042' }, /USING INDEX records_api_key_prefix \(api_key_prefix=\? AND rowid<\?\)/],
  ];
  it.each(single)('walks an index backwards in log order for %s, with no sort', async (_, filter, plan) => {
    const plans = await store.explain(() => store.search(filter, { limit: 20, beforeIndex: 4000 }));
    const search = plans.at(-1)!;
    expect(search).toMatch(plan);
    expect(search).not.toMatch(/TEMP B-TREE/);
  });

  it('indexes a column a record may leave empty only where it has a value; ts, kind and the ids always', () => {
    const db = new DatabaseSync(file, { readOnly: true });
    const definitions = Object.fromEntries(
      (db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_%'").all() as { name: string; sql: string }[]).map((i) => [
        i.name,
        i.sql,
      ]),
    );
    db.close();
    for (const column of ['event_type', 'user_id', 'session_id', 'conversation_id', 'api_key_prefix', 'provider', 'model', 'status']) {
      expect(definitions[`records_${column}`]).toMatch(new RegExp(`WHERE ${column} IS NOT NULL$`));
    }
    for (const column of ['ts', 'kind', 'trace_id', 'request_id']) expect(definitions[`records_${column}`]).not.toMatch(/WHERE/);
  });

  it('merges one index walk per stored prefix for a shorter key prefix', async () => {
    const plans = await store.explain(() => store.search({ keyPrefix: 'sk-0001' }, { limit: 20 }));
    // Eleven seeks for the distinct prefixes (ten found, one that finds none), then ten walks.
    expect(plans.filter((p) => /api_key_prefix=\?/.test(p) && !/TEMP B-TREE/.test(p))).toHaveLength(10);
    expect(await indexes({ keyPrefix: 'sk-0001' })).toEqual(expected({ keyPrefix: 'sk-0001' }, 20));
    expect(await indexes({ keyPrefix: 'sk-0001', model: 'gpt-4o' }, 5, 3000)).toEqual(expected({ keyPrefix: 'sk-0001', model: 'gpt-4o' }, 5, 3000));
  });

  it('still answers a key prefix shared by more stored prefixes than it merges', async () => {
    expect(await indexes({ keyPrefix: 'sk-' })).toEqual(expected({ keyPrefix: 'sk-' }, 20));
    expect(await indexes({ keyPrefix: 'sk-0' }, 7, 1234)).toEqual(expected({ keyPrefix: 'sk-0' }, 7, 1234));
    expect(await indexes({ keyPrefix: 'zz' })).toEqual([]);
  });

  it('answers a recent time range from the newest rows, an old one from the ts index', async () => {
    const recent = { since: at(4000) };
    const recentPlans = await store.explain(() => store.search(recent, { limit: 20 }));
    expect(recentPlans).toEqual(['SEARCH records USING INTEGER PRIMARY KEY (rowid>?)']);
    expect(await indexes(recent)).toEqual(expected(recent, 20));

    const old = { until: at(1000) };
    const oldPlans = await store.explain(() => store.search(old, { limit: 20 }));
    expect(oldPlans).toEqual([
      'SEARCH records USING INTEGER PRIMARY KEY (rowid>?)',
      expect.stringMatching(/^SEARCH records USING INDEX records_ts \(ts<\?\)/),
      'SEARCH records USING INTEGER PRIMARY KEY (rowid=?)',
    ]);
    expect(await indexes(old)).toEqual(expected(old, 20));
  });

  it.each<[string, SearchFilter, number | undefined]>([
    ['a window in the middle', { since: at(100), until: at(200) }, undefined],
    ['a window below the cursor', { since: at(100), until: at(3000) }, 2500],
    ['back-dated records at the top of the log', { until: '2026-01-01T00:00:00.000Z' }, undefined],
    ['a range that matches nothing', { since: '2030-01-01T00:00:00.000Z' }, undefined],
    ['a range that the newest rows only partly fill', { since: at(2900) }, undefined],
  ])('pages a time range newest first in log order: %s', async (_, filter, beforeIndex) => {
    expect(await indexes(filter, 30, beforeIndex)).toEqual(expected(filter, 30, beforeIndex));
    const first = await indexes(filter, 8, beforeIndex);
    const next = first.length === 8 ? await indexes(filter, 8, first.at(-1)) : [];
    expect([...first, ...next]).toEqual(expected(filter, 16, beforeIndex));
  });

  it('answers a time range correctly even when the ts index was dropped', async () => {
    const db = new DatabaseSync(file);
    db.exec('DROP INDEX records_ts');
    db.close();
    try {
      expect(await indexes({ until: at(1000) })).toEqual(expected({ until: at(1000) }, 20));
    } finally {
      const restore = new DatabaseSync(file);
      restore.exec('CREATE INDEX records_ts ON records(ts)');
      restore.close();
    }
  });

  it('walks the narrow index, not the broad kind, status or provider one, when both are given', async () => {
    const plans = await store.explain(() => store.search({ kind: 'llm.call', status: 'success', user: 'user-3' }, { limit: 20 }));
    expect(plans.at(-1)).toMatch(/USING INDEX records_user_id/);
    const statsPlans = await store.explain(async () => {
      for await (const _ of store.statsColumns({ kind: 'llm.call', since: at(4900) }, { batchSize: 1000 }));
    });
    // The list of packed blocks, the columns of those in the time range, then the index ranges of the calls no block holds.
    expect(statsPlans).toEqual([
      expect.stringMatching(/^SCAN call_stats_blocks$/),
      expect.stringMatching(/call_stats_blocks USING INTEGER PRIMARY KEY \(rowid=\?\)/),
      expect.stringMatching(/call_stats USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/),
    ]);
  });

  it('scans a time range in log order without sorting envelopes: the index span first, then a walk', async () => {
    const filter = { since: at(100), until: at(300), kind: 'llm.call' as const };
    const plans = await store.explain(async () => {
      for await (const _ of store.scan(filter, 100));
    });
    expect(plans).toHaveLength(2);
    expect(plans[0]).toMatch(/records_ts/);
    expect(plans[1]).toMatch(/USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/);
    expect(plans.join(' ')).not.toMatch(/TEMP B-TREE/);
    const found: number[] = [];
    for await (const batch of store.scan({ until: '2026-01-01T00:00:00.000Z' }, 100)) found.push(...batch.map((r) => r.index));
    expect(found).toEqual([4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999]);
  });

  it('reads stats columns without a sort', async () => {
    const plans = await store.explain(async () => {
      for await (const _ of store.statsColumns({ model: 'gpt-4o' }, { batchSize: 1000, groupBy: 'user' }));
    });
    expect(plans).toEqual([expect.stringMatching(/USING INDEX records_model/)]);
    expect(plans[0]).not.toMatch(/TEMP B-TREE/);
  });

  it('reads the stats of calls from the narrow call_stats copy, and gets what the records give', async () => {
    const rowsOf = async (filter: SearchFilter) => {
      const rows: string[] = [];
      for await (const c of store.statsColumns(filter, { batchSize: 700, groupBy: 'day', withTime: true })) {
        for (let i = 0; i < c.length; i++)
          rows.push(JSON.stringify([c.status[i], c.inputTokens[i], c.outputTokens[i], c.costUsd[i], c.latencyMs[i], c.group?.[i], c.time?.[i]]));
      }
      return rows.sort();
    };
    const filters: SearchFilter[] = [
      { kind: 'llm.call' },
      { kind: 'llm.call', model: 'gpt-4o', since: at(100), until: at(3000) },
      { kind: 'llm.call', user: 'user-3', status: 'error' },
      { kind: 'llm.call', until: '2026-01-01T00:00:00.000Z' },
    ];
    for (const filter of filters) {
      const plans = await store.explain(() => rowsOf(filter));
      expect(plans.at(-1)).toMatch(/call_stats/);
      // Every key prefix starts with sk-: the same rows, but a filter call_stats cannot take.
      const fromRecords = await rowsOf({ ...filter, keyPrefix: 'sk-' });
      expect(await rowsOf(filter)).toEqual(fromRecords);
    }
    expect(await rowsOf({ kind: 'llm.call', until: '2026-01-01T00:00:00.000Z' })).toHaveLength(10);
    expect(await rowsOf({ kind: 'llm.call', since: at(9000) })).toEqual([]);
  });
});

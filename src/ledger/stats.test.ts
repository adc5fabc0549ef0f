import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordInput } from '../record/types.js';
import { StatsColumnsBuilder } from '../store/stats-columns.js';
import type { Ledger } from './ledger.js';
import { computeStats } from './stats.js';
import { openTestLedger, tempDir } from './test-support/fixtures.js';

const call = (overrides: Partial<RecordInput>): RecordInput => ({
  provider: 'openai',
  model: 'gpt-4o',
  user: 'alice',
  status: 'success',
  timestamp: '2026-03-01T10:00:00.000Z',
  ...overrides,
});

describe.each(['memory', 'sqlite', 'jsonl'] as const)('stats on the %s store', (store) => {
  let ledger: Ledger;
  afterEach(async () => {
    await ledger.close();
  });

  async function ledgerWith(records: RecordInput[]): Promise<Ledger> {
    ledger = await openTestLedger(tempDir(), { store, checkpointIntervalMs: 60_000 });
    await Promise.all(records.map((r) => ledger.record(r)));
    await ledger.flush();
    return ledger;
  }

  it('counts calls only, with exact nearest-rank percentiles over the calls that have a latency', async () => {
    await ledgerWith([
      // Latencies 1..200 in a shuffled order, and two calls without one.
      ...Array.from({ length: 200 }, (_, i) =>
        call({ latencyMs: ((i * 73) % 200) + 1, inputTokens: 3, outputTokens: 4, reasoningTokens: 1, cachedTokens: 2, costUsd: 0.1 }),
      ),
      call({ inputTokens: 5 }),
      call({}),
      { kind: 'event', eventType: 'request_received', latencyMs: 99_999 },
    ]);
    const { totals, groups } = await ledger.stats();
    expect(groups).toEqual([]);
    expect(totals).toEqual({
      key: 'total',
      requests: 202,
      errors: 0,
      blocked: 0,
      errorRate: 0,
      blockRate: 0,
      inputTokens: 605,
      outputTokens: 800,
      reasoningTokens: 200,
      cachedTokens: 400,
      costUsd: 20,
      latencyP50: 100,
      latencyP95: 190,
      latencyP99: 198,
    });
  });

  it('counts errors and blocks apart and gives their rates', async () => {
    await ledgerWith([call({ status: 'error' }), call({ status: 'blocked' }), call({ status: 'blocked' }), call({ status: 'aborted' }), call({})]);
    expect((await ledger.stats()).totals).toMatchObject({ requests: 5, errors: 1, blocked: 2, errorRate: 0.2, blockRate: 0.4, latencyP50: null });
  });

  it('groups by model, user, provider and UTC day, largest group first, records without the field under (none)', async () => {
    await ledgerWith([
      call({ model: 'a', user: 'u1', provider: 'p1', timestamp: '2026-03-01T23:59:59.999Z' }),
      call({ model: 'b', user: 'u2', provider: 'p1', timestamp: '2026-03-02T00:00:00.000Z' }),
      call({ model: 'b', user: undefined, provider: 'p2', timestamp: '2026-03-02T08:00:00.000Z' }),
    ]);
    const keys = async (by: 'model' | 'user' | 'provider' | 'day') => (await ledger.stats({ by })).groups.map((g) => [g.key, g.requests]);
    expect(await keys('model')).toEqual([
      ['b', 2],
      ['a', 1],
    ]);
    expect(await keys('user')).toEqual([
      ['(none)', 1],
      ['u1', 1],
      ['u2', 1],
    ]);
    expect(await keys('provider')).toEqual([
      ['p1', 2],
      ['p2', 1],
    ]);
    expect(await keys('day')).toEqual([
      ['2026-03-02', 2],
      ['2026-03-01', 1],
    ]);
  });

  it('applies search filters, with times in any zone normalised to UTC', async () => {
    await ledgerWith([
      call({ model: 'a', timestamp: '2026-03-01T00:00:00.000Z' }),
      call({ model: 'a', timestamp: '2026-03-02T00:00:00.000Z' }),
      call({ model: 'b' }),
    ]);
    expect((await ledger.stats({ model: 'a' })).totals.requests).toBe(2);
    // The record at exactly midnight is included: '...T00:00:00Z' alone would sort after it.
    expect((await ledger.stats({ since: '2026-03-02T00:00:00Z' })).totals.requests).toBe(1);
    expect((await ledger.stats({ since: '2026-03-02T01:00:00+01:00' })).totals.requests).toBe(1);
    expect((await ledger.stats({ until: '2026-03-01' })).totals.requests).toBe(0);
  });

  it('gives a single call its own latency as every percentile, and tied latencies as they are', async () => {
    await ledgerWith([call({ model: 'one', latencyMs: 42 }), ...Array.from({ length: 9 }, (_, i) => call({ model: 'tied', latencyMs: i < 5 ? 7 : 8 }))]);
    const { groups } = await ledger.stats({ by: 'model' });
    expect(groups.map((g) => [g.key, g.latencyP50, g.latencyP95, g.latencyP99])).toEqual([
      ['tied', 7, 8, 8],
      ['one', 42, 42, 42],
    ]);
  });

  it('gives no percentiles to a group without latencies, and zeros when nothing matches', async () => {
    await ledgerWith([call({ model: 'timed', latencyMs: 5 }), call({ model: 'untimed', inputTokens: 3 })]);
    const { groups } = await ledger.stats({ by: 'model' });
    expect(groups.find((g) => g.key === 'untimed')).toMatchObject({ requests: 1, inputTokens: 3, latencyP50: null, latencyP95: null, latencyP99: null });
    expect(await ledger.stats({ model: 'nobody', by: 'user' })).toEqual({
      totals: {
        key: 'total',
        requests: 0,
        errors: 0,
        blocked: 0,
        errorRate: 0,
        blockRate: 0,
        inputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        cachedTokens: 0,
        costUsd: 0,
        latencyP50: null,
        latencyP95: null,
        latencyP99: null,
      },
      groups: [],
    });
  });

  it('refuses an unknown grouping and a time without a zone', async () => {
    await ledgerWith([]);
    await expect(ledger.stats({ by: 'colour' as 'model' })).rejects.toThrow(/grouped by model, user, provider, day; got colour/);
    await expect(ledger.stats({ since: '2026-03-01T00:00:00' })).rejects.toThrow(/since must be an ISO 8601 date or time in UTC/);
  });
});

describe('stats percentiles', () => {
  /** Nearest rank: the value at position ceil(p * n) of the latencies in ascending order. */
  const nearestRank = (latencies: number[], p: number) => [...latencies].sort((a, b) => a - b)[Math.max(0, Math.ceil(p * latencies.length) - 1)];

  it('are the nearest-rank latencies, whatever their number, order and ties, across batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1e6, noNaN: true })), { minLength: 1, maxLength: 3000, size: 'max' }),
        fc.integer({ min: 1, max: 500 }),
        async (latencies, batchSize) => {
          const builder = new StatsColumnsBuilder({ batchSize });
          const batches = latencies.flatMap((latency) => builder.push(1, 1, 1, 0, 0, 0, latency) ?? []);
          const rest = builder.take();
          const { totals } = await computeStats(
            (async function* () {
              yield* [...batches, ...(rest ? [rest] : [])];
            })(),
            false,
          );
          expect([totals.latencyP50, totals.latencyP95, totals.latencyP99]).toEqual([0.5, 0.95, 0.99].map((p) => nearestRank(latencies, p)));
        },
      ),
      { numRuns: 50 },
    );
  });
});

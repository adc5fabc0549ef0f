import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordInput } from '../record/types.js';
import type { Ledger } from './ledger.js';
import { openTestLedger, tempDir } from './test-support/fixtures.js';

const UNTIL = Date.parse('2026-03-08T00:00:00.000Z');
const HOUR = 3_600_000;
/** A time `hoursAgo` hours (plus a minute, to sit inside the hour) before the end of the window. */
const ago = (hoursAgo: number) => new Date(UTC_MINUS(hoursAgo)).toISOString();
const UTC_MINUS = (hoursAgo: number) => UNTIL - hoursAgo * HOUR + 60_000;

function hourly(from: number, to: number, make: (hoursAgo: number) => Partial<RecordInput>): RecordInput[] {
  const records: RecordInput[] = [];
  for (let h = from; h > to; h--) records.push({ provider: 'p', status: 'success', timestamp: ago(h), ...make(h) });
  return records;
}

let ledger: Ledger;
beforeAll(async () => {
  ledger = await openTestLedger(tempDir(), { store: 'memory', checkpointIntervalMs: 60_000 });
  const records: RecordInput[] = [
    // alice: the same 100 tokens every hour of the baseline (7 days) and the window (24 hours).
    ...hourly(192, 0, () => ({ user: 'alice', model: 'steady', inputTokens: 60, outputTokens: 40 })),
    // bob: 100 or 200 tokens an hour, then one call of 50,000 tokens in the window.
    ...hourly(192, 0, (h) => ({ user: 'bob', model: 'steady', inputTokens: h % 2 ? 100 : 200 })),
    { user: 'bob', model: 'steady', inputTokens: 50_000, timestamp: ago(3) },
    // carol: only in the window.
    ...hourly(5, 0, () => ({ user: 'carol', model: 'steady', inputTokens: 10 })),
    // Errors: 'flaky' fails in 1 of 168 baseline calls and in 12 of 24 window calls; 'lossy'
    // fails in every tenth call throughout, so its 10% in the window is nothing new.
    ...hourly(192, 0, (h) => ({ model: 'flaky', status: (h > 24 ? h === 100 : h % 2 === 0) ? 'error' : 'success' })),
    ...hourly(192, 0, (h) => ({ model: 'lossy', status: h % 10 === 0 ? 'error' : 'success' })),
    // Outside the baseline and the window: ignored.
    { user: 'alice', model: 'flaky', status: 'error', inputTokens: 1e9, timestamp: ago(500) },
    { user: 'alice', model: 'flaky', status: 'error', inputTokens: 1e9, timestamp: ago(-5) },
    // Events are not calls.
    { kind: 'event', eventType: 'request_received', user: 'alice', inputTokens: 1e9, timestamp: ago(2) },
  ];
  await Promise.all(records.map((r) => ledger.record(r)));
  await ledger.flush();
});
afterAll(async () => {
  await ledger.close();
});

const until = new Date(UNTIL).toISOString();

describe('anomalies', () => {
  it('flags a user whose window total is more than 3 standard deviations above their baseline', async () => {
    const report = await ledger.anomalies({ until });
    expect(report.window).toEqual({ since: '2026-03-07T00:00:00.000Z', until });
    expect(report.baseline).toEqual({ since: '2026-02-28T00:00:00.000Z', until: '2026-03-07T00:00:00.000Z' });
    expect(report.bucketMs).toBe(HOUR);
    expect(report.tokenAnomalies.map((a) => a.key)).toEqual(['bob']);
    const bob = report.tokenAnomalies[0]!;
    expect(bob.windowTokens).toBe(12 * 100 + 12 * 200 + 50_000);
    expect(bob.windowCalls).toBe(25);
    // 150 tokens an hour on average: 3,600 expected over 24 hours.
    expect(bob.expectedTokens).toBe(3600);
    expect(bob.z).toBeGreaterThan(100);
    expect(report.newKeys).toEqual([{ key: 'carol', windowTokens: 50, windowCalls: 5 }]);
  });

  it('flags an error-rate spike by model with an exact binomial tail, not a rate that was always high', async () => {
    const { errorSpikes } = await ledger.anomalies({ until });
    expect(errorSpikes.map((s) => s.model)).toEqual(['flaky']);
    expect(errorSpikes[0]).toMatchObject({ windowCalls: 24, windowErrors: 12, windowErrorRate: 0.5, baselineCalls: 168, baselineErrors: 1 });
    expect(errorSpikes[0]!.baselineErrorRate).toBeCloseTo(2 / 170, 3);
    expect(errorSpikes[0]!.pValue).toBeLessThan(1e-10);
  });

  it('compares by model or provider on request, and takes search filters', async () => {
    const byModel = await ledger.anomalies({ until, by: 'model' });
    expect(byModel.by).toBe('model');
    expect(byModel.tokenAnomalies.map((a) => a.key)).toEqual(['steady']);
    expect((await ledger.anomalies({ until, user: 'alice' })).tokenAnomalies).toEqual([]);
    expect((await ledger.anomalies({ until, by: 'provider', model: 'lossy' })).tokenAnomalies).toEqual([]);
  });

  it('is stricter with a higher sigma and covers a shorter window', async () => {
    const bob = (await ledger.anomalies({ until })).tokenAnomalies[0]!;
    expect((await ledger.anomalies({ until, sigma: bob.z + 1 })).tokenAnomalies).toEqual([]);
    const hourly = await ledger.anomalies({ until, windowMs: 6 * HOUR, baselineMs: 6 * 24 * HOUR });
    expect(hourly.bucketMs).toBe(15 * 60_000);
    expect(hourly.tokenAnomalies.map((a) => a.key)).toEqual(['bob']);
  });

  it('refuses a baseline shorter than the window, a tiny window and a sigma that is not positive', async () => {
    await expect(ledger.anomalies({ windowMs: 7 * 24 * HOUR, baselineMs: 24 * HOUR })).rejects.toThrow(/baseline must be at least as long as the window/);
    await expect(ledger.anomalies({ windowMs: 1000 })).rejects.toThrow(/at least one minute/);
    await expect(ledger.anomalies({ sigma: 0 })).rejects.toThrow(/sigma must be a positive number/);
    await expect(ledger.anomalies({ until: 'soon' })).rejects.toThrow(/until must be an ISO 8601/);
  });

  it('finds nothing in an empty ledger', async () => {
    const empty = await openTestLedger(tempDir(), { store: 'memory' });
    const report = await empty.anomalies();
    expect(report).toMatchObject({ tokenAnomalies: [], newKeys: [], errorSpikes: [], by: 'user', sigma: 3 });
    await empty.close();
  });
});

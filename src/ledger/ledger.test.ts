import { defaultCapturePolicy } from '../capture/default-policy.js';
import { describe, expect, it } from 'vitest';
import { RecordValidationError } from '../record/errors.js';
import type { RecordInput } from '../record/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { AppendRequest, NewEntry, Store } from '../store/store.js';
import { openTestLedger, recordSequentially, sampleCall, tempDir } from './test-support/fixtures.js';
import { Ledger, type LedgerParts } from './ledger.js';
import { Digester } from '../crypto/digest.js';
import { generateSignerKey } from '../log/checkpoint.js';

/** A ledger over a hand-made store, with fresh keys. */
function ledgerOver(store: Store, writer: LedgerParts['writer']): Promise<Ledger> {
  const origin = 'test.example/log';
  const limits = { maxMetadataBytes: 8192, maxErrorChars: 1024 };
  return Ledger.create({ store, signerKey: generateSignerKey(origin), origin, capture: defaultCapturePolicy(new Digester('sha256')), limits, writer });
}

describe('Ledger', () => {
  it('records a call and returns its id, index, trace and request ids', async () => {
    const ledger = await openTestLedger(tempDir());
    const receipt = await ledger.record(sampleCall(1, { traceId: 'trace-1', requestId: 'req-1' }));
    expect(receipt).toMatchObject({ index: 0, traceId: 'trace-1', requestId: 'req-1' });
    expect(receipt.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const stored = await ledger.get(receipt.id);
    expect(stored?.envelope).toMatchObject({ v: 2, kind: 'llm.call', model: 'claude-sonnet-4', inputTokens: 101 });
    await ledger.close();
  });

  it('generates a request id when none is given, and never overwrites a record with the same request id', async () => {
    const ledger = await openTestLedger(tempDir());
    const a = await ledger.record(sampleCall(1));
    expect(a.requestId).toBe(a.id);
    await ledger.record(sampleCall(2, { requestId: 'dup' }));
    await ledger.record(sampleCall(3, { requestId: 'dup' }));
    expect((await ledger.search({ requestId: 'dup' })).records).toHaveLength(2);
    await ledger.close();
  });

  it('keeps no raw API key or content text in the envelope, only hashes and a prefix', async () => {
    const ledger = await openTestLedger(tempDir());
    const { id } = await ledger.record(sampleCall(1, { apiKey: 'sk-live-SECRET-0123456789abcdef', content: { input: 'my secret prompt' } }));
    const text = JSON.stringify((await ledger.get(id))?.envelope);
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('my secret prompt');
    expect(text).toContain('"apiKeyPrefix":"sk-live-"');
    const short = await ledger.record(sampleCall(2, { apiKey: 'short-key-123' }));
    expect((await ledger.get(short.id))?.envelope.apiKeyPrefix).toBeUndefined();
    await ledger.close();
  });

  it.each([
    [{ inputTokens: -1 }, /inputTokens: must not be negative/],
    [{ latencyMs: -5 }, /latencyMs: must not be negative/],
    [{ timestamp: '2026-01-01T10:00:00+02:00' }, /timestamp: must be an ISO 8601 UTC timestamp ending in Z/],
    [{ timestamp: 'yesterday' }, /timestamp/],
    [{ timestamp: '2026-02-30T00:00:00Z' }, /timestamp: is not a real date/],
    [{ kind: 'llm.cal' }, /kind: must be one of llm.call, event/],
    [{ metadata: { blob: 'x'.repeat(9000) } }, /metadata: is \d+ bytes as canonical JSON; the limit is 8192/],
    [{ modle: 'gpt-4o' }, /unknown field 'modle'/],
    [{ kind: 'event' }, /eventType: is required/],
  ])('rejects %j with a clear error and stores nothing', async (bad, message) => {
    const ledger = await openTestLedger(tempDir());
    await ledger.record(sampleCall(0));
    // Invalid on purpose: record() validates its input at run time, whatever its static type.
    const attempt = ledger.record({ ...sampleCall(1), ...bad } as RecordInput);
    await expect(attempt).rejects.toBeInstanceOf(RecordValidationError);
    await expect(attempt).rejects.toThrow(message);
    expect((await ledger.search()).records).toHaveLength(1);
    await ledger.close();
  });

  it('bounds a long error message and marks it truncated', async () => {
    const ledger = await openTestLedger(tempDir());
    const { id } = await ledger.record(sampleCall(1, { status: 'error', error: 'e'.repeat(5000) }));
    const e = (await ledger.get(id))!.envelope;
    expect(e.error).toHaveLength(1024);
    expect(e.errorTruncated).toBe(true);
    await ledger.close();
  });

  it('commits many concurrent records in few transactions (group commit), each resolving once durable', async () => {
    const appends: number[] = [];
    class CountingStore extends MemoryStore {
      override async append(entries: readonly NewEntry[], request: AppendRequest) {
        appends.push(entries.length);
        return super.append(entries, request);
      }
    }
    const ledger = await ledgerOver(new CountingStore(), { maxBatch: 500, maxWaitMs: 2, checkpointIntervalMs: 1000 });
    const receipts = await Promise.all(Array.from({ length: 1200 }, (_, i) => ledger.record(sampleCall(i))));
    expect(receipts.map((r) => r.index)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(appends.filter((n) => n > 0).length).toBeLessThanOrEqual(4);
    expect(Math.max(...appends)).toBe(500);
    await ledger.close();
  });

  it('rejects the records of a failed batch (and those sent behind it), then carries on with no gap', async () => {
    let calls = 0;
    class FlakyStore extends MemoryStore {
      override async append(entries: readonly NewEntry[], request: AppendRequest) {
        if (entries.length > 0 && ++calls === 2) throw new Error('disk full');
        return super.append(entries, request);
      }
    }
    const ledger = await ledgerOver(new FlakyStore(), { maxBatch: 10, maxWaitMs: 0, checkpointIntervalMs: 0 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => ledger.record(sampleCall(i))));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(10);
    expect(String((rejected[0] as PromiseRejectedResult).reason)).toMatch(/disk full/);
    const after = await ledger.record(sampleCall(99));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    // The outage itself is recorded too, as a store_outage event, once the store takes records again.
    expect(after.index).toBeGreaterThanOrEqual(accepted);
    expect(await ledger.verify()).toMatchObject({ ok: true, size: accepted + 2 });
    const outage = (await ledger.search({ eventType: 'store_outage' })).records;
    expect(outage.map((r) => r.envelope.metadata?.failedRecords)).toEqual([rejected.length]);
    await ledger.close();
  });

  it('pages search results newest first with a cursor', async () => {
    const ledger = await openTestLedger(tempDir(), { checkpointIntervalMs: 1000 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => ledger.record(sampleCall(i))));
    const first = await ledger.search({ limit: 3 });
    expect(first.records.map((r) => r.index)).toEqual([6, 5, 4]);
    const second = await ledger.search({ limit: 3, cursor: first.nextCursor! });
    expect(second.records.map((r) => r.index)).toEqual([3, 2, 1]);
    const third = await ledger.search({ limit: 3, cursor: second.nextCursor! });
    expect(third.records.map((r) => r.index)).toEqual([0]);
    expect(third.nextCursor).toBeUndefined();
    await expect(ledger.search({ cursor: 'bogus' })).rejects.toThrow(/cursor is not one this ledger issued/);
    await expect(ledger.search({ limit: 0 })).rejects.toThrow(/limit must be/);
    await ledger.close();
  });

  it('returns a trace in log order', async () => {
    const ledger = await openTestLedger(tempDir());
    await ledger.record({ kind: 'event', eventType: 'request_received', traceId: 'T' });
    await ledger.record(sampleCall(1));
    await ledger.record({ kind: 'event', eventType: 'policy_evaluated', traceId: 'T' });
    await ledger.record(sampleCall(2, { traceId: 'T' }));
    await ledger.record({ kind: 'event', eventType: 'request_completed', traceId: 'T' });
    expect((await ledger.trace('T')).map((r) => r.envelope.eventType ?? r.envelope.kind)).toEqual([
      'request_received',
      'policy_evaluated',
      'llm.call',
      'request_completed',
    ]);
    await ledger.close();
  });

  it('computes stats with exact percentiles, grouped by model, user and day', async () => {
    const ledger = await openTestLedger(tempDir(), { checkpointIntervalMs: 1000 });
    for (let i = 1; i <= 100; i++) {
      await ledger.record({
        model: i <= 60 ? 'a' : 'b',
        user: 'u',
        latencyMs: i,
        inputTokens: 1,
        outputTokens: 2,
        costUsd: 0.01,
        status: i % 10 === 0 ? 'error' : 'success',
        timestamp: '2026-03-01T00:00:00Z',
      });
    }
    await ledger.record({ kind: 'event', eventType: 'request_received' });
    const { totals, groups } = await ledger.stats({ by: 'model' });
    expect(totals).toMatchObject({
      requests: 100,
      errors: 10,
      errorRate: 0.1,
      inputTokens: 100,
      outputTokens: 200,
      costUsd: 1,
      latencyP50: 50,
      latencyP95: 95,
      latencyP99: 99,
    });
    expect(groups.map((g) => [g.key, g.requests, g.latencyP50])).toEqual([
      ['a', 60, 30],
      ['b', 40, 80],
    ]);
    expect((await ledger.stats({ by: 'day' })).groups.map((g) => g.key)).toEqual(['2026-03-01']);
    expect((await ledger.stats({ model: 'b' })).totals.requests).toBe(40);
    await ledger.close();
  });

  it('keeps indexes contiguous and checkpoints valid across close and reopen', async () => {
    const dir = tempDir();
    let ledger = await openTestLedger(dir, { checkpointIntervalMs: 60_000 });
    await recordSequentially(ledger, 5);
    await ledger.close();
    ledger = await openTestLedger(dir, { checkpointIntervalMs: 60_000 });
    expect((await ledger.record(sampleCall(9))).index).toBe(5);
    const report = await ledger.verify();
    expect(report).toMatchObject({ ok: true, size: 6, verifiedSize: 6 });
    await ledger.close();
  });

  it('refuses records after close', async () => {
    const ledger = await openTestLedger(tempDir());
    await ledger.close();
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(/closed/);
  });
});

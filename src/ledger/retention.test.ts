import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import type { Ledger } from './ledger.js';
import { openLedger } from './open-ledger.js';
import { sampleCall, tempDir } from './test-support/fixtures.js';

const KEK = randomBytes(32).toString('hex');
const NOW = Date.parse('2026-01-11T00:00:00.000Z');
const day = (i: number) => `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`;

function open(dir: string, retention: Record<string, unknown>, store = 'sqlite'): Promise<Ledger> {
  const config = configSchema(dir).parse({
    store: { type: store, path: 'ledger.db' },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
    capture: { prompts: 'encrypted', responses: 'encrypted' },
    retention,
  });
  return openLedger(config, { env: { LLM_LEDGER_KEK: KEK }, onWarning: () => undefined });
}

/** Ten calls, one a day from 2026-01-01 00:00 UTC. */
async function tenDays(ledger: Ledger): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push((await ledger.record(sampleCall(i, { timestamp: day(i) }))).id);
  return ids;
}

describe.each(['sqlite', 'memory'])('retention on a %s ledger', (store) => {
  it('deletes content strictly older than its period, and keeps the record at the boundary', async () => {
    const ledger = await open(tempDir(), { content_days: 8, envelope_days: 'forever' }, store);
    const ids = await tenDays(ledger);
    const report = await ledger.cleanup(NOW);
    // Cutoff 2026-01-03T00:00Z: days 0 and 1 are before it; day 2 is exactly at it and stays.
    expect(report.content).toEqual({ cutoff: day(2), deleted: 2 });
    expect(report.envelopes).toBeUndefined();
    const reveal = (id: string) => ledger.reveal(id, { actor: 'auditor', reason: 'retention test' });
    expect((await reveal(ids[1]!)).content).toEqual({});
    expect((await reveal(ids[2]!)).content.output).toBe('answer 2');
    const record = (await ledger.get(report.recordId!))!.envelope;
    expect(record).toMatchObject({ kind: 'retention', metadata: { content: { cutoff: day(2), deleted: 2 } } });
    expect((await ledger.verify()).ok).toBe(true);
    await ledger.close();
  });

  it('content_days 0 removes all content at the next cleanup', async () => {
    const ledger = await open(tempDir(), { content_days: 0, envelope_days: 'forever' }, store);
    await tenDays(ledger);
    expect((await ledger.cleanup(NOW)).content?.deleted).toBe(10);
    expect(await ledger.cleanup(NOW)).toEqual({});
    await ledger.close();
  });

  it('prunes the oldest envelopes as a prefix, states it in the log first, and every proof still verifies', async () => {
    const ledger = await open(tempDir(), { content_days: 6, envelope_days: 6 }, store);
    const ids = await tenDays(ledger);
    const proofBefore = serializeProof(await ledger.prove(ids[7]!));
    const report = await ledger.cleanup(NOW);
    // Cutoff 2026-01-05T00:00Z: days 0-3 go; day 4 is at the cutoff and stays.
    expect(report.envelopes).toEqual({ cutoff: day(4), from: 0, below: 4, count: 4 });
    expect(await ledger.get(ids[3]!)).toBeUndefined();
    expect(await ledger.get(ids[4]!)).toBeDefined();
    // Stats count only what is left: the pruned calls are gone from them too.
    expect((await ledger.stats()).totals.requests).toBe(6);
    const verified = await ledger.verify();
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(verifyProof(proofBefore, { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    expect(verifyProof(serializeProof(await ledger.prove(ids[7]!)), { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    // A second pass finds nothing more to prune.
    expect((await ledger.cleanup(NOW)).envelopes).toBeUndefined();
    await ledger.close();
  });

  it('stops the prefix at the first record still inside its period, even if older ones follow', async () => {
    const ledger = await open(tempDir(), { content_days: 6, envelope_days: 6 }, store);
    await ledger.record(sampleCall(0, { timestamp: day(0) }));
    await ledger.record(sampleCall(1, { timestamp: day(9) }));
    const late = await ledger.record(sampleCall(2, { timestamp: day(1) }));
    expect((await ledger.cleanup(NOW)).envelopes).toMatchObject({ from: 0, below: 1, count: 1 });
    expect(await ledger.get(late.id)).toBeDefined();
    await ledger.close();
  });
});

describe('pruning on SQLite', () => {
  it('lets nothing but retention delete: rows above the horizon stay append-only, and a deletion without a retention record is caught', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { content_days: 6, envelope_days: 6 });
    await tenDays(ledger);
    await ledger.cleanup(NOW);
    await ledger.close();
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    expect(() => db.exec('DELETE FROM records WHERE idx = 6')).toThrow(/append-only/);
    expect(() => db.exec('INSERT INTO pruned (below) VALUES (2)')).toThrow(/only moves forward/);
    // An attacker who raises the horizon and deletes is still caught: the log states no such pruning.
    db.exec('INSERT INTO pruned (below) VALUES (7); DELETE FROM records WHERE idx = 6');
    db.close();
    const reader = await open(dir, { content_days: 6, envelope_days: 6 });
    const report = await reader.verify();
    await reader.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(6);
  });

  it('refuses to prune on a JSONL ledger and says why', async () => {
    const config = configSchema(tempDir()).parse({ store: { type: 'jsonl' }, retention: { content_days: 1, envelope_days: 1 } });
    const ledger = await openLedger(config, { onWarning: () => undefined });
    await ledger.record(sampleCall(0, { timestamp: day(0), content: undefined }));
    const report = await ledger.cleanup(NOW);
    expect(report.envelopes).toBeUndefined();
    expect(report.skipped).toMatch(/cannot prune envelopes.*needs a SQLite store/);
    await ledger.close();
  });
});

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { RecordValidationError } from '../record/errors.js';
import type { RecordInput } from '../record/types.js';
import { openLedger } from './open-ledger.js';
import { openTestLedger, recordSequentially, sampleCall, tempDir, testConfig, verifyDir } from './test-support/fixtures.js';
import { insertForeignRow } from './test-support/foreign-row.js';

async function ledgerOf(count: number, checkpointIntervalMs = 0): Promise<string> {
  const dir = tempDir();
  const ledger = await openTestLedger(dir, { checkpointIntervalMs });
  await recordSequentially(ledger, count);
  await ledger.close();
  return dir;
}

describe('a signed head with every batch', () => {
  it('covers every committed record even when no checkpoint is due, so verify needs no checkpoint to say OK', async () => {
    const dir = tempDir();
    const ledger = await openTestLedger(dir, { checkpointIntervalMs: 3_600_000 });
    await recordSequentially(ledger, 5);
    const report = await ledger.verify();
    await ledger.close();
    expect(report).toMatchObject({ ok: true, size: 5, coveredBySignature: 5 });
  });

  it('keeps a row that no writer sequenced out of the log: the next writer refuses, naming the index and the command that resolves it', async () => {
    const dir = await ledgerOf(6);
    const foreign = insertForeignRow(join(dir, 'ledger.db'));
    const ledger = await openTestLedger(dir);
    await expect(ledger.record(sampleCall(99))).rejects.toThrow(
      new RegExp(`records from index ${foreign} to ${foreign} that no signed head or checkpoint covers.*llm-ledger repair`),
    );
    const report = await ledger.verify();
    await ledger.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(foreign);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unsealed', index: foreign })]);
  });

  it('takes unsealed rows in only when an operator accepts them, and records who, why and which leaves', async () => {
    const dir = await ledgerOf(4);
    const foreign = insertForeignRow(join(dir, 'ledger.db'));
    const ledger = await openLedger(testConfig(dir), {
      onWarning: () => undefined,
      acceptUnsealed: { actor: 'ops@example.com', reason: 'written by 0.1 before its crash' },
    });
    expect(ledger.accepted).toMatchObject({ ranges: [{ from: foreign, to: foreign + 1 }] });
    const event = await ledger.get(ledger.accepted!.recordId);
    expect(event?.envelope).toMatchObject({
      eventType: 'unsealed_accepted',
      user: 'ops@example.com',
      metadata: { ranges: [[foreign, foreign + 1]], count: 1, reason: 'written by 0.1 before its crash' },
    });
    await ledger.record(sampleCall(7));
    await ledger.close();
    expect(await verifyDir(dir)).toMatchObject({ ok: true, size: foreign + 3 });
  });

  it('does not let acceptance hide anything else: a changed record still keeps the writer out', async () => {
    const dir = await ledgerOf(4);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('DROP TRIGGER records_no_update; DROP TRIGGER leaves_no_update;');
    db.exec(`UPDATE records SET envelope = json_set(envelope, '$.model', 'x') WHERE idx = 1`);
    db.exec(`UPDATE leaves SET hash = zeroblob(32) WHERE idx = 1`);
    db.close();
    const ledger = await openLedger(testConfig(dir), { onWarning: () => undefined, acceptUnsealed: { actor: 'ops', reason: 'r' } });
    expect(ledger.accepted).toBeUndefined();
    await expect(ledger.record(sampleCall(9))).rejects.toThrow(/does not match its (newest checkpoint|signed head)/);
    await ledger.close();
  });

  it('refuses a stored checkpoint whose size column its signed note contradicts, and verify says so', async () => {
    const dir = await ledgerOf(5);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('DROP TRIGGER checkpoints_no_update');
    db.exec('UPDATE checkpoints SET size = 3 WHERE seq = (SELECT max(seq) FROM checkpoints)');
    db.close();
    const ledger = await openTestLedger(dir);
    await expect(ledger.record(sampleCall(9))).rejects.toThrow(/its newest checkpoint is stored with size 3 but its signed note says 5/);
    const report = await ledger.verify();
    await ledger.close();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message).join(' ')).toMatch(/stored with size 3 but its signed note says 5/);
  });

  it('refuses to append to a copy restored from an older backup, which would fork the log', async () => {
    const dir = tempDir();
    const cfg = testConfig(dir);
    let ledger = await openLedger(cfg, { onWarning: () => undefined });
    await recordSequentially(ledger, 3);
    await ledger.close();
    const backup = new DatabaseSync(join(dir, 'ledger.db'));
    backup.exec(`VACUUM INTO '${join(dir, 'backup.db')}'`);
    backup.close();
    ledger = await openLedger(cfg, { onWarning: () => undefined });
    await recordSequentially(ledger, 4);
    await ledger.close();
    const restored = { ...cfg, store: { ...cfg.store, path: join(dir, 'backup.db') } };
    ledger = await openLedger(restored, { onWarning: () => undefined });
    await expect(ledger.record(sampleCall(9))).rejects.toThrow(
      /holds 3 records but its anchor .* has a signed checkpoint of 7: the records from index 3 are gone .*Recovery/,
    );
    const report = await ledger.verify();
    await ledger.close();
    expect(report.firstBadIndex).toBe(3);
  });
});

describe('record() and the kinds only the ledger writes', () => {
  it.each([
    [{ kind: 'retention', metadata: { envelopes: { below: 100 } } }, 'kind', /'retention' records are written by the ledger itself \(by cleanup\(\)\)/],
    [{ kind: 'erasure', user: 'u' }, 'kind', /by erase\(\)/],
    [{ kind: 'content_accessed', metadata: { recordId: 'x' } }, 'kind', /by reveal\(\)/],
    [{ kind: 'event', eventType: 'store_outage' }, 'eventType', /'store_outage' events are written by the ledger itself/],
    [{ kind: 'event', eventType: 'keys_rewrapped' }, 'eventType', /keys_rewrapped/],
  ])('refuses %j and stores nothing', async (reserved, path, message) => {
    const input = reserved as RecordInput;
    const dir = tempDir();
    const ledger = await openTestLedger(dir);
    const refused = await ledger.record(input).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(RecordValidationError);
    expect((refused as RecordValidationError).issues).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(await ledger.size()).toBe(0);
    await expect(ledger.recordAll([sampleCall(1), input])).rejects.toThrow(message);
    expect(await ledger.size()).toBe(0);
    await ledger.close();
  });
});

describe('the anchor', () => {
  it('gets the checkpoints it missed at the next open', async () => {
    const dir = await ledgerOf(5);
    const anchor = join(dir, 'anchor');
    const before = readdirSync(anchor).sort();
    // As if the last two publications failed (a full disk, a crash between storing and anchoring).
    for (const name of before.slice(-2)) (await import('node:fs')).rmSync(join(anchor, name));
    const ledger = await openTestLedger(dir);
    await ledger.flush();
    await ledger.close();
    expect(readdirSync(anchor).sort()).toEqual(before);
  });
});

describe('the copies stats read', () => {
  it('a cost edited in call_stats fails verify, and stats then refuse to report the edited figures', async () => {
    const dir = await ledgerOf(6);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('DROP TRIGGER call_stats_no_update; UPDATE call_stats SET cost_usd = 0 WHERE idx = 2;');
    db.close();
    const ledger = await openTestLedger(dir);
    expect((await ledger.stats()).totals.costUsd).toBeCloseTo(0.001 * (1 + 2 + 4 + 5 + 6), 6);
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'derived', message: expect.stringMatching(/call_stats disagrees with the llm.call records at index 2/) }),
    ]);
    await expect(ledger.stats()).rejects.toThrow(/the copies of the records that stats read were edited .*index 2.*not reported/);
    await expect(ledger.anomalies()).rejects.toThrow(/were edited/);
    await ledger.close();
  });
});

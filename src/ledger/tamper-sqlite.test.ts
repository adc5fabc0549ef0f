import { createHash } from 'node:crypto';
import { defaultCapturePolicy } from '../capture/default-policy.js';
import { canonicalJson } from '../record/canonical.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Digester } from '../crypto/digest.js';
import { generateSignerKey } from '../log/checkpoint.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { Ledger } from './ledger.js';
import { openTestLedger, recordSequentially, sampleCall, tempDir, verifyDir } from './test-support/fixtures.js';

/** A second connection, triggers dropped, as an attacker with write access to the file would do. */
function tamper(dir: string, sql: string): void {
  const db = new DatabaseSync(join(dir, 'ledger.db'));
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) {
    db.exec(`DROP TRIGGER ${name}`);
  }
  db.exec(sql);
  db.close();
}

async function ledgerOf(count: number, anchor = true) {
  const dir = tempDir();
  const ledger = await openTestLedger(dir, { anchor });
  await recordSequentially(ledger, count);
  await ledger.close();
  return dir;
}

describe('verify on a SQLite ledger', () => {
  it('passes on an untouched log', async () => {
    const dir = await ledgerOf(10);
    const report = await verifyDir(dir);
    expect(report).toMatchObject({ ok: true, size: 10, firstBadIndex: null, problems: [], verifiedSize: 10 });
    expect(report.anchoredCheckpointsChecked).toBe(10);
    expect(report.warnings).toEqual([]);
  });

  it('says plainly that truncation cannot be detected without an anchor', async () => {
    const dir = await ledgerOf(3, false);
    const report = await verifyDir(dir, { anchor: false });
    expect(report.ok).toBe(true);
    expect(report.warnings.join(' ')).toMatch(/No anchor is configured.*truncation or rollback.*cannot be detected/);
  });

  it('names the index of a changed field', async () => {
    const dir = await ledgerOf(10);
    tamper(dir, `UPDATE records SET envelope = json_set(envelope, '$.model', 'gpt-3.5') WHERE idx = 4`);
    const report = await verifyDir(dir);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(4);
    expect(report.problems[0]).toMatchObject({ kind: 'changed', index: 4 });
  });

  it('names the index of a deleted record', async () => {
    const dir = await ledgerOf(10);
    tamper(dir, 'DELETE FROM records WHERE idx = 3');
    const report = await verifyDir(dir);
    expect(report.firstBadIndex).toBe(3);
    expect(report.problems.map((p) => p.kind)).toContain('missing');
  });

  it('names the index of an inserted record, even when later records were renumbered', async () => {
    const dir = await ledgerOf(10);
    tamper(
      dir,
      `UPDATE records SET idx = -idx - 1 WHERE idx >= 5;
       UPDATE records SET idx = -idx WHERE idx < 0;
       INSERT INTO records (idx, id, envelope)
         SELECT 5, '00000000-0000-7000-8000-000000000000', json_set(envelope, '$.id', '00000000-0000-7000-8000-000000000000') FROM records WHERE idx = 1;`,
    );
    const report = await verifyDir(dir);
    expect(report.firstBadIndex).toBe(5);
    expect(report.size).toBe(11);
  });

  it('names the first index of two swapped records', async () => {
    const dir = await ledgerOf(10);
    tamper(dir, 'UPDATE records SET idx = -1 WHERE idx = 2; UPDATE records SET idx = 2 WHERE idx = 6; UPDATE records SET idx = 6 WHERE idx = -1;');
    const report = await verifyDir(dir);
    expect(report.firstBadIndex).toBe(2);
    expect(report.problems.filter((p) => p.kind === 'changed').map((p) => p.index)).toEqual([2, 6]);
  });

  it('catches truncation through the anchor, even when leaves and checkpoints were cut too', async () => {
    const dir = await ledgerOf(10);
    tamper(dir, 'DELETE FROM records WHERE idx >= 7; DELETE FROM leaves WHERE idx >= 7; DELETE FROM checkpoints WHERE size > 7;');
    const report = await verifyDir(dir);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(7);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', index: 7 }));
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'bad-checkpoint',
        message: expect.stringMatching(/anchored checkpoint\(s\) \(sizes 8, 9, 10\) are missing from the store/),
      }),
    );
  });

  it('refuses to append after a rollback (truncated behind the anchor), which would fork the log, and verify names the first index removed', async () => {
    const dir = await ledgerOf(10);
    tamper(dir, 'DELETE FROM records WHERE idx >= 7; DELETE FROM leaves WHERE idx >= 7; DELETE FROM checkpoints WHERE size > 7;');
    const ledger = await openTestLedger(dir);
    await expect(ledger.record(sampleCall(100))).rejects.toThrow(
      /holds 7 records but its anchor .* has a signed checkpoint of 10: the records from index 7 are gone/,
    );
    const report = await ledger.verify();
    await ledger.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(7);
    expect(report.problems.map((p) => p.kind)).toContain('truncated');
  });

  it('refuses to append to a log that no longer matches its newest checkpoint', async () => {
    const dir = await ledgerOf(4);
    tamper(dir, `UPDATE leaves SET hash = zeroblob(32) WHERE idx = 1`);
    const ledger = await openTestLedger(dir);
    await expect(ledger.record(sampleCall(9))).rejects.toThrow(/does not match its newest checkpoint.*appends are refused/);
    expect((await ledger.verify()).ok).toBe(false);
    await ledger.close();
  });

  it('names the rows whose id columns were swapped, and a lookup by either id refuses to answer with the other record', async () => {
    const dir = await ledgerOf(10);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    const [five, seven] = [5, 7].map((idx) => (db.prepare('SELECT id FROM records WHERE idx = ?').get(idx) as { id: string }).id);
    db.close();
    tamper(
      dir,
      `UPDATE records SET id = 'swap' WHERE idx = 5; UPDATE records SET id = '${five}' WHERE idx = 7; UPDATE records SET id = '${seven}' WHERE idx = 5;`,
    );
    const ledger = await openTestLedger(dir);
    await expect(ledger.get(five!)).rejects.toThrow(/the row stored under id .* holds record .* \(index 7\): the stored id was edited/);
    await expect(ledger.prove(five!)).rejects.toThrow(/stored id was edited/);
    const report = await ledger.verify();
    await ledger.close();
    expect(report.firstBadIndex).toBe(5);
    expect(report.problems.map((p) => [p.kind, p.index])).toEqual([
      ['changed', 5],
      ['changed', 7],
    ]);
  });

  it('refuses updates and deletes through the append-only triggers', async () => {
    const dir = await ledgerOf(2);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    expect(() => db.exec(`UPDATE records SET envelope = '{}' WHERE idx = 0`)).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM leaves')).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM checkpoints')).toThrow(/append-only/);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('verify on a large SQLite ledger, scanned on worker threads', () => {
  const origin = 'test.example/log';
  const signerKey = generateSignerKey(origin);
  const largeLedger = (dir: string) =>
    Ledger.create({
      store: openSqliteStore(join(dir, 'ledger.db'), { parallelScanFrom: 0 }),
      signerKey,
      origin,
      capture: defaultCapturePolicy(new Digester('sha256')),
      limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
      writer: { maxBatch: 700, maxWaitMs: 0, checkpointIntervalMs: 0 },
    });

  async function filled(count: number) {
    const dir = tempDir();
    const ledger = await largeLedger(dir);
    await Promise.all(Array.from({ length: count }, (_, i) => ledger.record(sampleCall(i))));
    await ledger.close();
    return dir;
  }

  async function verifyLarge(dir: string) {
    const ledger = await largeLedger(dir);
    const report = await ledger.verify();
    await ledger.close();
    return report;
  }
  it('passes when untouched', async () => {
    const dir = await filled(5000);
    expect(await verifyLarge(dir)).toMatchObject({ ok: true, size: 5000, verifiedSize: 5000 });
  });

  it('names the changed record exactly', async () => {
    const dir = await filled(5000);
    tamper(dir, `UPDATE records SET envelope = json_set(envelope, '$.model', 'x') WHERE idx = 3333`);
    expect((await verifyLarge(dir)).firstBadIndex).toBe(3333);
  });

  it('names a row whose id column was edited', async () => {
    const dir = await filled(5000);
    tamper(dir, `UPDATE records SET id = 'edited' WHERE idx = 4321`);
    const report = await verifyLarge(dir);
    expect(report.firstBadIndex).toBe(4321);
    expect(report.problems[0]?.message).toMatch(/stored under an id that is not its envelope's/);
  });

  it('falls back to the last matching checkpoint when leaves were rewritten to match', async () => {
    const dir = await filled(5000);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    const before = (db.prepare('SELECT size FROM checkpoints WHERE size <= 3333 ORDER BY size DESC LIMIT 1').get() as { size: number }).size;
    db.close();
    // A consistent rewrite: the record's model changed and its leaf recomputed to match, its id kept.
    const stored = new DatabaseSync(join(dir, 'ledger.db'), { readOnly: true });
    const { envelope } = stored.prepare('SELECT envelope FROM records WHERE idx = 3333').get() as { envelope: string };
    stored.close();
    const rewritten = canonicalJson({ ...(JSON.parse(envelope) as object), model: 'x' });
    const leaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(rewritten)]))
      .digest('hex');
    tamper(dir, `UPDATE records SET envelope = '${rewritten.replaceAll("'", "''")}' WHERE idx = 3333; UPDATE leaves SET hash = X'${leaf}' WHERE idx = 3333;`);
    const report = await verifyLarge(dir);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(before);
  });
});

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { verifyProof } from '../log/proof.js';
import { openLedger } from './open-ledger.js';
import { openTestLedger, recordSequentially, sampleCall, tempDir, testConfig } from './test-support/fixtures.js';

/** A ledger of `count` records in a new directory, closed, and the key that verifies its checkpoints. */
async function closedLedger(count: number): Promise<{ dir: string; ids: string[]; verifierKey: string }> {
  const dir = tempDir();
  const ledger = await openTestLedger(dir);
  const ids = await recordSequentially(ledger, count);
  await ledger.close();
  return { dir, ids, verifierKey: ledger.verifierKey };
}

/** The test configuration of `dir`, its checkpoints checked with `verifierKey`. */
const withVerifierKey = (dir: string, verifierKey: string) => ({ ...testConfig(dir), log: { ...testConfig(dir).log, verifierKey } });

describe('a ledger opened read-only', () => {
  it('answers queries, verifies and proves, and refuses to record', async () => {
    const dir = tempDir();
    const writable = await openTestLedger(dir);
    const ids = await recordSequentially(writable, 5);
    await writable.close();

    const ledger = await openLedger(testConfig(dir), { readOnly: true, onWarning: () => undefined });
    try {
      expect((await ledger.search({ limit: 10 })).records).toHaveLength(5);
      expect((await ledger.verify()).ok).toBe(true);
      expect(verifyProof(await ledger.prove(ids[2]!), { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
      // @ts-expect-error: a reader has no record(); the ledger behind it refuses one at run time too.
      await expect(ledger.record({ model: 'm' })).rejects.toThrow(/opened read-only/);
    } finally {
      await ledger.close();
    }
  });

  it('needs no key-encryption key or digest key, so a viewer can query a ledger that encrypts content', async () => {
    const dir = tempDir();
    const encrypted = { ...testConfig(dir), capture: { ...testConfig(dir).capture, prompts: 'encrypted', responses: 'encrypted' } } as const;
    const writer = await openLedger(encrypted, { env: { LLM_LEDGER_KEK: 'ab'.repeat(32) }, onWarning: () => undefined });
    await writer.record(sampleCall(0));
    await writer.close();
    rmSync(join(dir, 'digest.key'));

    const viewer = await openLedger(encrypted, { readOnly: true, env: {}, onWarning: () => undefined });
    expect((await viewer.search({})).records).toHaveLength(1);
    expect((await viewer.verify()).ok).toBe(true);
    await viewer.close();
    expect(existsSync(join(dir, 'digest.key'))).toBe(false);
  });

  it('refuses to open without the signing key instead of making a new one that would make every checkpoint look forged', async () => {
    const dir = tempDir();
    const writer = await openTestLedger(dir);
    await recordSequentially(writer, 1);
    await writer.close();
    rmSync(join(dir, 'signing.key'));
    await expect(openLedger(testConfig(dir), { readOnly: true, onWarning: () => undefined })).rejects.toThrow(/signing key .*signing\.key.* does not exist/);
    expect(existsSync(join(dir, 'signing.key'))).toBe(false);
  });

  it('with only the published verifier key (log.verifier_key), queries, verifies and proves where the signing key is absent', async () => {
    const { dir, ids, verifierKey } = await closedLedger(3);
    rmSync(join(dir, 'signing.key'));

    const auditor = await openLedger(withVerifierKey(dir, verifierKey), { readOnly: true, onWarning: () => undefined });
    expect(auditor.verifierKey).toBe(verifierKey);
    expect((await auditor.verify()).ok).toBe(true);
    expect(verifyProof(await auditor.prove(ids[1]!), { trustedVerifierKey: verifierKey }).ok).toBe(true);
    // @ts-expect-error: as above.
    await expect(auditor.record({ model: 'm' })).rejects.toThrow(/opened read-only/);
    await auditor.close();
    expect(existsSync(join(dir, 'signing.key'))).toBe(false);
  });

  it("checked against another ledger's verifier key, every checkpoint fails verification", async () => {
    const { dir } = await closedLedger(3);
    const auditor = await openLedger(withVerifierKey(dir, (await closedLedger(0)).verifierKey), { readOnly: true, onWarning: () => undefined });
    const report = await auditor.verify();
    await auditor.close();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message).join('\n')).toMatch(/signature|checkpoint/i);
  });

  it('a writable open refuses a signing key whose verifier key is not the configured one, before appending anything', async () => {
    const dir = tempDir();
    await expect(openLedger(withVerifierKey(dir, (await closedLedger(0)).verifierKey), { onWarning: () => undefined })).rejects.toThrow(
      /log\.verifier_key is not the verifier key of the signing key .*signing\.key/,
    );
    expect(existsSync(join(dir, 'ledger.db'))).toBe(false);
  });

  it('opens a damaged log and lets verify name the damage, where a writable open refuses appends', async () => {
    const dir = tempDir();
    const writable = await openTestLedger(dir);
    await recordSequentially(writable, 5);
    await writable.close();
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('DROP TRIGGER leaves_no_delete; DELETE FROM leaves WHERE idx = 4');
    db.close();

    const reader = await openLedger(testConfig(dir), { readOnly: true, onWarning: () => undefined });
    expect((await reader.verify()).firstBadIndex).toBe(4);
    await reader.close();
    const damaged = await openTestLedger(dir);
    await expect(damaged.record({ model: 'm' })).rejects.toThrow(/5 records but 4 leaf hashes.*appends are refused/);
    await damaged.close();
  });

  it('proves nothing from leaves that are missing or differ from the signed tree', async () => {
    const { dir, ids } = await closedLedger(6);
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('DROP TRIGGER leaves_no_update; DROP TRIGGER leaves_no_delete;');
    const reader = await openLedger(testConfig(dir), { readOnly: true, onWarning: () => undefined });
    try {
      expect(verifyProof(await reader.prove(ids[0]!), { trustedVerifierKey: reader.verifierKey }).ok).toBe(true);
      db.prepare('UPDATE leaves SET hash = ? WHERE idx = 5').run(Buffer.alloc(32, 1));
      await expect(reader.prove(ids[0]!)).rejects.toThrow(/the stored log does not match checkpoint 6; run 'llm-ledger verify'/);
      db.exec('DELETE FROM leaves WHERE idx = 3');
      await expect(reader.prove(ids[5]!)).rejects.toThrow(/the stored log does not match checkpoint 6/);
    } finally {
      await reader.close();
      db.close();
    }
  });
});

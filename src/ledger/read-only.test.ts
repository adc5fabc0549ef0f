import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { verifyProof } from '../log/proof.js';
import { openLedger } from './open-ledger.js';
import { openTestLedger, recordSequentially, tempDir, testConfig } from './test-support/fixtures.js';

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
      await expect(ledger.record({ model: 'm' })).rejects.toThrow(/opened read-only/);
    } finally {
      await ledger.close();
    }
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
});

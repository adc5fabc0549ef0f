import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { sampleCall } from '../ledger/test-support/fixtures.js';
import { canonicalJson } from '../record/canonical.js';
import { ledgerDir, run } from './test-support/cli.js';

/** A row and its leaf after the last, with a correct leaf hash, as someone with the file could insert them. */
function insertForeignRow(dir: string): number {
  const db = new DatabaseSync(join(dir, 'ledger.db'));
  const { last, envelope } = db.prepare('SELECT idx AS last, envelope FROM records ORDER BY idx DESC LIMIT 1').get() as { last: number; envelope: string };
  const forged = canonicalJson({ ...(JSON.parse(envelope) as object), id: '019b0000-0000-7000-8000-00000000abcd' });
  db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)').run(last + 1, '019b0000-0000-7000-8000-00000000abcd', forged);
  db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)').run(last + 1, createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(forged)])).digest());
  db.close();
  return last + 1;
}

describe('llm-ledger repair', () => {
  it('on an intact ledger: says there is nothing to repair, exit 0', async () => {
    const dir = await ledgerDir([sampleCall(1), sampleCall(2)]);
    expect(run(dir, ['repair'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: all 2 records are covered by signed checkpoints; nothing to repair/) });
  });

  it('shows a row no writer sealed and how to resolve it, then accepts it with a reason, recorded with the actor', async () => {
    const dir = await ledgerDir([sampleCall(1), sampleCall(2), sampleCall(3)]);
    const foreign = insertForeignRow(dir);
    const refused = run(dir, ['erase', '--user', 'user-1', '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`records from index ${foreign} to ${foreign} that no signed head or checkpoint covers.*llm-ledger repair`));

    const shown = run(dir, ['repair']);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(new RegExp(`1 record\\(s\\) from index ${foreign} are covered by no signed head`));
    expect(shown.stdout).toContain("llm-ledger repair --accept-unsealed --reason '<why>'");

    expect(run(dir, ['repair', '--accept-unsealed'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--accept-unsealed needs --reason/) });
    const accepted = run(dir, ['repair', '--accept-unsealed', '--reason', 'restored by hand', '--actor', 'ops@example.com']);
    expect(accepted).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^Accepted records ${foreign}\\.\\.${foreign} into the log; the decision is unsealed_accepted record .*\\nverify: OK`)) });
    const events = JSON.parse(run(dir, ['search', '--event-type', 'unsealed_accepted', '--json']).stdout) as { records: { envelope: { user: string; metadata: { reason: string } } }[] };
    expect(events.records.map((r) => [r.envelope.user, r.envelope.metadata.reason])).toEqual([['ops@example.com', 'restored by hand']]);
    expect(run(dir, ['verify']).code).toBe(0);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleCall } from '../ledger/test-support/fixtures.js';
import { insertForeignRow } from '../ledger/test-support/foreign-row.js';
import { ledgerDir, run } from './test-support/cli.js';

describe('llm-ledger repair', () => {
  it('on an intact ledger: says there is nothing to repair, exit 0', async () => {
    const dir = await ledgerDir([sampleCall(1), sampleCall(2)]);
    expect(run(dir, ['repair'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK: all 2 records are covered by signed checkpoints; nothing to repair/),
    });
  });

  it('shows a row no writer sealed and how to resolve it, then accepts it with a reason, recorded with the actor', async () => {
    const dir = await ledgerDir([sampleCall(1), sampleCall(2), sampleCall(3)]);
    const foreign = insertForeignRow(join(dir, 'ledger.db'), '019b0000-0000-7000-8000-00000000abcd');
    const refused = run(dir, ['erase', '--user', 'user-1', '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`records from index ${foreign} to ${foreign} that no signed head or checkpoint covers.*llm-ledger repair`));

    const shown = run(dir, ['repair']);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(new RegExp(`1 record\\(s\\) from index ${foreign} are covered by no signed head`));
    expect(shown.stdout).toContain("llm-ledger repair --accept-unsealed --reason '<why>'");

    expect(run(dir, ['repair', '--accept-unsealed'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--accept-unsealed needs --reason/) });
    const accepted = run(dir, ['repair', '--accept-unsealed', '--reason', 'restored by hand', '--actor', 'ops@example.com']);
    expect(accepted).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^Accepted records ${foreign}\\.\\.${foreign} into the log; the decision is unsealed_accepted record .*\\nverify: OK`),
      ),
    });
    const events = JSON.parse(run(dir, ['search', '--event-type', 'unsealed_accepted', '--json']).stdout) as {
      records: { envelope: { user: string; metadata: { reason: string } } }[];
    };
    expect(events.records.map((r) => [r.envelope.user, r.envelope.metadata.reason])).toEqual([['ops@example.com', 'restored by hand']]);
    expect(run(dir, ['verify']).code).toBe(0);
  });
});

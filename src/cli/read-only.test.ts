import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerDir, run } from './test-support/cli.js';

const calls = [{ model: 'gpt-4o', user: 'alice' }, { model: 'gpt-4o', user: 'bob' }];

describe('queries open the ledger read-only', () => {
  it('refuse, creating nothing, when the signing key is missing, instead of calling every checkpoint forged', async () => {
    const dir = await ledgerDir(calls);
    renameSync(join(dir, 'signing.key'), join(dir, 'elsewhere.key'));
    for (const args of [['verify'], ['search'], ['prove', 'x']]) {
      const { code, stdout, stderr } = run(dir, args);
      expect(code, args.join(' ')).toBe(3);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/the ledger's signing key .*signing\.key \(log\.signing_key_file\) does not exist; without it the checkpoints cannot be checked/);
    }
    expect(existsSync(join(dir, 'signing.key'))).toBe(false);
    renameSync(join(dir, 'elsewhere.key'), join(dir, 'signing.key'));
    expect(run(dir, ['verify'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: 2 records verified/) });
  });

  it('need no digest key, and never create one', async () => {
    const dir = await ledgerDir(calls);
    renameSync(join(dir, 'digest.key'), join(dir, 'kept-apart.key'));
    for (const args of [['search', '--json'], ['stats'], ['export'], ['verify']]) expect(run(dir, args).code, args.join(' ')).toBe(0);
    expect(readdirSync(dir)).not.toContain('digest.key');
  });

  it('leave the log as it was: no query, show without --reveal included, appends a record', async () => {
    const dir = await ledgerDir(calls);
    const id = (JSON.parse(run(dir, ['search', '--json']).stdout) as { records: { envelope: { id: string } }[] }).records[0]!.envelope.id;
    for (const args of [['show', id], ['trace', id], ['stats'], ['anomalies'], ['export'], ['verify'], ['prove', id]]) run(dir, args);
    expect((JSON.parse(run(dir, ['search', '--json']).stdout) as { records: unknown[] }).records).toHaveLength(2);
  });
});

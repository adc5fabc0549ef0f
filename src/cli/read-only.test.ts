import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerDir, run } from './test-support/cli.js';

/** The secret part of a signer key, PRIVATE+KEY+<name>+<key id>+<base64>: the base64 may itself hold '+'. */
const privateKeyData = (signerKey: string) => signerKey.trim().split('+').slice(4).join('+');

const calls = [
  { model: 'gpt-4o', user: 'alice' },
  { model: 'gpt-4o', user: 'bob' },
];

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

  it('need only the verifier key that keys verifier prints, set in LLM_LEDGER_VERIFIER_KEY, where the signing key is absent', async () => {
    const dir = await ledgerDir(calls);
    const printed = run(dir, ['keys', 'verifier']);
    expect(printed.code).toBe(0);
    const verifierKey = printed.stdout.trim();
    expect(verifierKey).toMatch(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(printed.stdout).not.toContain(privateKeyData(readFileSync(join(dir, 'signing.key'), 'utf8')));
    expect(JSON.parse(run(dir, ['keys', 'verifier', '--json']).stdout)).toMatchObject({ verifierKey, signingKeyFile: join(dir, 'signing.key') });

    const id = (JSON.parse(run(dir, ['search', '--json']).stdout) as { records: { envelope: { id: string } }[] }).records[0]!.envelope.id;
    renameSync(join(dir, 'signing.key'), join(dir, 'kept-by-the-operator.key'));
    const env = { LLM_LEDGER_VERIFIER_KEY: verifierKey };
    expect(run(dir, ['verify'], { env })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: 2 records verified/) });
    expect(run(dir, ['search'], { env }).code).toBe(0);
    expect(run(dir, ['prove', id, '--out', 'bundle.json'], { env }).code).toBe(0);
    expect(run(dir, ['verify-proof', 'bundle.json', '--key', verifierKey], { env }).code).toBe(0);
    // Appending needs the signing key: the verifier key cannot sign.
    expect(run(dir, ['cleanup'], { env })).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/signing key .* does not exist; without it the checkpoints cannot be signed/),
    });
    expect(existsSync(join(dir, 'signing.key'))).toBe(false);
    expect(run(dir, ['keys', 'verifier'])).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/the signing key .*signing\.key \(log\.signing_key_file\) does not exist/),
    });
  });

  it('refuse a private signing key given as the verifier key, without printing it', async () => {
    const dir = await ledgerDir(calls);
    const signingKey = readFileSync(join(dir, 'signing.key'), 'utf8').trim();
    const { code, stdout, stderr } = run(dir, ['verify'], { env: { LLM_LEDGER_VERIFIER_KEY: signingKey } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/log\.verifier_key .*is the private signing key/);
    expect(stdout + stderr).not.toContain(privateKeyData(signingKey));
    expect(run(dir, ['verify'], { env: { LLM_LEDGER_VERIFIER_KEY: 'not-a-key' } })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/log\.verifier_key .*must be the ledger's verifier key/),
    });
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

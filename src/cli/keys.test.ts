import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../ledger/test-support/fixtures.js';
import { ledgerDir, recordInto, run } from './test-support/cli.js';

const ENCRYPTED = `capture:
  prompts: encrypted
  responses: encrypted
# Keys: the current one, and the ones it replaced.
encryption:
  kek_file: ./first.kek   # created by keys generate
`;

const reveal = (dir: string, id: string, env?: NodeJS.ProcessEnv) =>
  run(dir, ['show', id, '--reveal', '--reason', 'rotation check', '--json'], env ? { env } : {});
const revealed = (dir: string, id: string) => (JSON.parse(reveal(dir, id).stdout) as { content: { input: string } }).content.input;

describe('keys generate', () => {
  it('writes a random 32-byte key with mode 0600, prints its path and the config to use, never the key', () => {
    const dir = tempDir();
    const { code, stdout } = run(dir, ['keys', 'generate'], { noConfig: true });
    expect(code).toBe(0);
    const path = join(dir, 'llm-ledger.kek');
    const key = readFileSync(path, 'utf8').trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(stdout).toContain(`Wrote a new key-encryption key to ${path} (mode 0600, key id kek-`);
    expect(stdout).toContain(`  encryption:\n    kek_file: ${path}\n`);
    expect(stdout).not.toContain(key);
    expect(stdout).not.toContain(Buffer.from(key, 'hex').toString('base64'));

    const second = JSON.parse(run(dir, ['keys', 'generate', '--out', 'keys/second.kek', '--json'], { noConfig: true }).stdout) as {
      path: string;
      kekId: string;
    };
    expect(second).toEqual({ path: join(dir, 'keys', 'second.kek'), kekId: expect.stringMatching(/^kek-[0-9a-f]{16}$/) });
    expect(readFileSync(second.path, 'utf8').trim()).not.toBe(key);
  });

  it('never overwrites a key file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'llm-ledger.kek'), 'precious\n', { mode: 0o600 });
    const { code, stderr } = run(dir, ['keys', 'generate'], { noConfig: true });
    expect(code).toBe(2);
    expect(stderr).toMatch(/already exists; refusing to overwrite it: .*choose another path with --out/);
    expect(readFileSync(join(dir, 'llm-ledger.kek'), 'utf8')).toBe('precious\n');
  });
});

describe('keys rotate', () => {
  it('makes a new key current, moves the old one to previous_kek_files in the config file, and old content stays readable', async () => {
    const dir = await ledgerDir([], ENCRYPTED, {}, (d) => expect(run(d, ['keys', 'generate', '--out', 'first.kek'], { noConfig: true }).code).toBe(0));
    chmodSync(join(dir, 'llm-ledger.yaml'), 0o640);
    const [before] = await recordInto(dir, [{ model: 'gpt-4o', user: 'alice', content: { input: 'before rotation' } }]);

    const { code, stdout } = run(dir, ['keys', 'rotate']);
    expect(code).toBe(0);
    const newFile = /Wrote the new key-encryption key to (\S+) \(mode 0600, key id (kek-\w+)\); the previous key is (kek-\w+)\./.exec(stdout);
    expect(newFile).not.toBeNull();
    expect(newFile![2]).not.toBe(newFile![3]);
    expect(newFile![1]).toMatch(new RegExp(`^${dir}/llm-ledger-\\d{8}T\\d{6}Z\\.kek$`));
    expect(statSync(newFile![1]!).mode & 0o777).toBe(0o600);
    expect(stdout).toMatch(/Updated .*llm-ledger.yaml: encryption.kek_file is the new key/);

    const config = readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8');
    const name = newFile![1]!.slice(dir.length + 1);
    expect(config).toContain(`  kek_file: ./${name} # created by keys generate\n  previous_kek_files:\n    - ./first.kek\n`);
    expect(config).toContain('# Keys: the current one, and the ones it replaced.');
    expect(statSync(join(dir, 'llm-ledger.yaml')).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Old content through the previous key, new content through the new one.
    const [after] = await recordInto(dir, [{ model: 'gpt-4o', user: 'bob', content: { input: 'after rotation' } }]);
    expect(revealed(dir, before!)).toBe('before rotation');
    expect(revealed(dir, after!)).toBe('after rotation');

    // A second rotation appends to the list, oldest first.
    expect(run(dir, ['keys', 'rotate', '--out', 'third.kek']).code).toBe(0);
    expect(readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')).toContain(
      `  kek_file: ./third.kek # created by keys generate\n  previous_kek_files:\n    - ./first.kek\n    - ./${name}\n`,
    );
    expect(revealed(dir, before!)).toBe('before rotation');
    expect(revealed(dir, after!)).toBe('after rotation');

    // The previous keys are really needed: without them old content is unreadable.
    const rotated = readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8');
    const withoutPrevious = rotated.replace(/ {2}previous_kek_files:\n( {4}- .*\n)+/, '');
    writeFileSync(join(dir, 'llm-ledger.yaml'), withoutPrevious);
    expect(reveal(dir, before!)).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown-key/) });

    // Rewrapped under the current key, the data keys need the previous ones no more.
    writeFileSync(join(dir, 'llm-ledger.yaml'), rotated);
    const rewrap = run(dir, ['keys', 'rewrap', '--json']);
    expect(rewrap.code).toBe(0);
    expect(JSON.parse(rewrap.stdout)).toMatchObject({ subjects: 2, rewrapped: 2, kekId: expect.stringMatching(/^kek-/) });
    writeFileSync(join(dir, 'llm-ledger.yaml'), withoutPrevious);
    expect(revealed(dir, before!)).toBe('before rotation');
    expect(revealed(dir, after!)).toBe('after rotation');
    expect(run(dir, ['verify']).code).toBe(0);
  });

  it('with the key in the environment, writes the new key and says exactly what to change, touching no file', async () => {
    const key = randomBytes(32).toString('hex');
    const dir = await ledgerDir([], 'capture:\n  prompts: encrypted\n', { LLM_LEDGER_KEK: key });
    const config = readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8');
    const { code, stdout } = run(dir, ['keys', 'rotate', '--json'], { env: { LLM_LEDGER_KEK: key } });
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { newKekFile: string; configUpdated: boolean; why: string; instructions: string[] };
    expect(result).toMatchObject({ configUpdated: false, why: 'the current key comes from LLM_LEDGER_KEK, not a file' });
    expect(result.instructions.join('\n')).toMatch(/printf '%s\\n' "\$LLM_LEDGER_KEK" > previous.kek[\s\S]*previous_kek_files[\s\S]*kek_file: /);
    expect(statSync(result.newKekFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')).toBe(config);
    expect(stdout).not.toContain(key);
  });

  it('leaves a config whose key path comes from a variable alone, and refuses when no key is configured', async () => {
    const dir = await ledgerDir([], '', {});
    writeFileSync(join(dir, 'env.kek'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'llm-ledger.yaml'), `${readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')}encryption:\n  kek_file: \${KEK_PATH}\n`);
    const config = readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8');
    const viaVariable = run(dir, ['keys', 'rotate'], { env: { KEK_PATH: join(dir, 'env.kek') } });
    expect(viaVariable.code).toBe(0);
    expect(viaVariable.stdout).toMatch(
      /The config file was not changed \(encryption.kek_file in .* is taken from the environment \(\$\{KEK_PATH\}\)\)\. To finish the rotation:\n {2}1\. in llm-ledger.yaml, under encryption, set kek_file: /,
    );
    expect(readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')).toBe(config);

    const none = await ledgerDir([], '');
    expect(run(none, ['keys', 'rotate'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no key-encryption key is configured .*nothing to rotate; create one with: llm-ledger keys generate/),
    });
  });

  it('refuses to start from a key file others can read', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'encryption:\n  kek_file: ./loose.kek\n');
    writeFileSync(join(dir, 'loose.kek'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o644 });
    const { code, stderr } = run(dir, ['keys', 'rotate']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/rotation was not started: KEK file .*loose.kek is readable by other users \(mode 644\); run chmod 600/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.kek'))).toEqual(['loose.kek']);
  });
});

import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from './env.js';
import { parseConfig } from './load.js';

describe('ENV_VARIABLES', () => {
  it('documents each variable once, all under the LLM_LEDGER_ prefix', () => {
    const names = ENV_VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^LLM_LEDGER_[A-Z_]+$/);
  });

  // Keeps the documentation honest: every listed setting is really overridden by its variable.
  it.each([
    ['LLM_LEDGER_STORE', 'memory', (c: ReturnType<typeof parseConfig>) => c.store.type, 'memory'],
    ['LLM_LEDGER_STORE_PATH', '/x/db', (c: ReturnType<typeof parseConfig>) => c.store.path, '/x/db'],
    ['LLM_LEDGER_SIGNING_KEY_FILE', '/x/sign', (c: ReturnType<typeof parseConfig>) => c.log.signingKeyFile, '/x/sign'],
    ['LLM_LEDGER_ANCHOR', '/x/anchor', (c: ReturnType<typeof parseConfig>) => c.log.anchor?.path, '/x/anchor'],
    ['LLM_LEDGER_ORIGIN', 'example.com/o', (c: ReturnType<typeof parseConfig>) => c.log.origin, 'example.com/o'],
    ['LLM_LEDGER_DIGEST_KEY', 'cd'.repeat(32), (c: ReturnType<typeof parseConfig>) => c.digest.key, 'cd'.repeat(32)],
  ])('%s is listed and takes effect', (name, value, read, expected) => {
    expect(ENV_VARIABLES.some((v) => v.name === name)).toBe(true);
    expect(read(parseConfig('', { env: { [name]: value }, cwd: '/' }))).toBe(expected);
  });

  it('LLM_LEDGER_STORE_URL is listed and takes effect, with LLM_LEDGER_STORE=postgres', () => {
    expect(ENV_VARIABLES.some((v) => v.name === 'LLM_LEDGER_STORE_URL')).toBe(true);
    const url = 'postgres://ledger@127.0.0.1:5432/audit';
    expect(parseConfig('', { env: { LLM_LEDGER_STORE: 'postgres', LLM_LEDGER_STORE_URL: url }, cwd: '/' }).store).toMatchObject({ type: 'postgres', url });
  });

  it('lists LLM_LEDGER_CONFIG, which chooses the file rather than a setting', () => {
    expect(ENV_VARIABLES.find((v) => v.name === 'LLM_LEDGER_CONFIG')?.setting).toBe('(config file)');
  });
});

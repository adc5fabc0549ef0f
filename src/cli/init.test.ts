import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { defaultConfig } from '../config/schema.js';
import { tempDir } from '../ledger/test-support/fixtures.js';
import { recordInto, run } from './test-support/cli.js';

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Every setting name under `value`, as written in YAML, with its section path. */
function settingNames(value: unknown, path: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, v]) => [[...path, snake(key)], ...settingNames(v, [...path, snake(key)])]);
}

describe('init', () => {
  it('writes a commented config that loads to exactly the defaults', () => {
    const dir = tempDir();
    const { code, stdout } = run(dir, ['init'], { noConfig: true });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Wrote ${join(dir, 'llm-ledger.yaml')}: every setting at its default, with comments\\.\\nNext: set log.anchor.path`));
    expect(loadConfig({ path: join(dir, 'llm-ledger.yaml'), env: {} })).toEqual(defaultConfig(dir));
  });

  it('documents every setting, the optional ones included, and explains every section', () => {
    const dir = tempDir();
    run(dir, ['init'], { noConfig: true });
    const text = readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8');
    const optional = [
      ['store', 'url'],
      ['log', 'anchor'],
      ['log', 'anchor', 'path'],
      ['capture', 'pii', 'enabled'],
      ['encryption', 'kek_file'],
      ['retention', 'content_days'],
      ['retention', 'envelope_days'],
      ['gateway', 'providers', 'openai', 'api_key'],
    ];
    for (const path of [...settingNames(defaultConfig(dir)), ...optional]) {
      expect(text, path.join('.')).toMatch(new RegExp(`^\\s*(#\\s*)?${path.at(-1)}:`, 'm'));
    }
    for (const section of Object.keys(defaultConfig(dir))) {
      expect(text, section).toMatch(new RegExp(`^# .+\\n${section}:`, 'm'));
    }
    expect(text).toMatch(/#\s+hipaa\s+content 90 days, envelopes 2192 days/);
  });

  it('refuses to overwrite without --force, and writes where --config or the argument says', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'store:\n  type: jsonl\n');
    expect(run(dir, ['init'], { noConfig: true })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/llm-ledger.yaml already exists; edit it, or add --force/),
    });
    expect(readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')).toBe('store:\n  type: jsonl\n');
    expect(run(dir, ['init', '--force'], { noConfig: true }).code).toBe(0);
    expect(readFileSync(join(dir, 'llm-ledger.yaml'), 'utf8')).toMatch(/^# llm-ledger configuration/);

    expect(run(dir, ['--config', 'etc/ledger.yaml', 'init'], { noConfig: true })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot write .*etc\/ledger.yaml/),
    });
    expect(run(dir, ['init', 'other.yaml'], { noConfig: true }).stdout).toMatch(/llm-ledger --config .*other.yaml serve/);
    expect(loadConfig({ path: join(dir, 'other.yaml'), env: {} })).toEqual(defaultConfig(dir));
  });

  it('gives a ledger the other commands use as it is, once something is recorded', async () => {
    const dir = tempDir();
    run(dir, ['init'], { noConfig: true });
    // Queries do not create a ledger: before the first record there is none, and they say where they looked.
    expect(run(dir, ['search'], { noConfig: true })).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(new RegExp(`no ledger at ${join(dir, 'llm-ledger.db')} \\(store.path\\)`)),
    });
    expect(readdirSync(dir)).toEqual(['llm-ledger.yaml']);
    await recordInto(dir, [{ model: 'gpt-4o', user: 'alice' }]);
    expect(run(dir, ['search', '--json'], { noConfig: true }).code).toBe(0);
    expect(run(dir, ['verify'], { noConfig: true })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: 1 records verified/) });
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../ledger/open-ledger.js';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import type { RecordInput } from '../../record/types.js';

// The built binary, as users run it (`npm test` builds before the tests run).
export const BIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** A config rooted in its own directory, with every key file there too. `extra` is appended YAML. */
export function configText(extra = ''): string {
  return `store:
  type: sqlite
  path: ./ledger.db
log:
  signing_key_file: ./signing.key
  checkpoint_interval_ms: 0
  anchor:
    path: ./anchor
digest:
  key_file: ./digest.key
${extra}`;
}

/** A ledger directory with `llm-ledger.yaml`; `records` are written through the library first. */
export async function ledgerDir(records: RecordInput[], extraConfig = '', env: NodeJS.ProcessEnv = {}, setUp?: (dir: string) => void): Promise<string> {
  const dir = tempDir();
  setUp?.(dir);
  writeFileSync(join(dir, 'llm-ledger.yaml'), configText(extraConfig));
  await recordInto(dir, records, env);
  return dir;
}

/** Appends records to the ledger in `dir` through the library, as an application would. */
export async function recordInto(dir: string, records: RecordInput[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const ledger = await openLedger(join(dir, 'llm-ledger.yaml'), { onWarning: () => undefined, env });
  try {
    const ids: string[] = [];
    for (const record of records) ids.push((await ledger.record(record)).id);
    return ids;
  } finally {
    await ledger.close();
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Leave out `--config`: the command finds ./llm-ledger.yaml (or none) itself. */
  noConfig?: boolean;
}

/** Runs the CLI in `dir` against its `llm-ledger.yaml`, with a clean environment plus `env`. */
export function run(dir: string, args: string[], options: RunOptions = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  const argv = options.noConfig ? args : ['--config', join(dir, 'llm-ledger.yaml'), ...args];
  const result = spawnSync(process.execPath, [BIN, ...argv], {
    cwd: dir,
    encoding: 'utf8',
    env,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `run`, without blocking this process: for commands that talk to a server running in the test
 * itself (the gateway's review API), which could not answer while `spawnSync` waits.
 */
export function runAsync(dir: string, args: string[], options: RunOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  const argv = options.noConfig ? args : ['--config', join(dir, 'llm-ledger.yaml'), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

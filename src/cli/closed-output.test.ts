import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../ledger/open-ledger.js';
import { sampleCall } from '../ledger/test-support/fixtures.js';
import { BIN, ledgerDir } from './test-support/cli.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Bytes read from stdout before it was closed. */
  read: number;
}

/**
 * Runs the CLI with its stdout on a pipe this side closes early: `after: 'first-chunk'` once the
 * first chunk has arrived (as `| head -2` does), `after: 'start'` before the CLI has written anything
 * (the race `--help | head -1` sometimes loses). The CLI's own exit status, not a shell's.
 */
function runClosingStdout(dir: string, args: string[], after: 'first-chunk' | 'start', closeStderr = false): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', join(dir, 'llm-ledger.yaml'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let read = 0;
    let stderr = '';
    if (after === 'start') child.stdout.destroy();
    else {
      child.stdout.once('data', (chunk: Buffer) => {
        read = chunk.length;
        child.stdout.destroy();
      });
    }
    if (closeStderr) child.stderr.destroy();
    else child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, read }));
  });
}

describe('a CLI whose output is closed early', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await ledgerDir([]);
    // Enough records that a search prints far more than a pipe holds (64 KiB): the CLI is still writing when the reader goes.
    const ledger = await openLedger(join(dir, 'llm-ledger.yaml'), { onWarning: () => undefined });
    try {
      await Promise.all(Array.from({ length: 1500 }, (_, i) => ledger.record(sampleCall(i))));
    } finally {
      await ledger.close();
    }
  });

  it.each([
    ['search', ['search', '--limit', '1000']],
    ['search --json', ['search', '--limit', '1000', '--json']],
    ['export', ['export']],
  ])('%s ends quietly with exit 0 when the reader closes after the first chunk', async (_, args) => {
    const ended = await runClosingStdout(dir, args, 'first-chunk');
    expect(ended.read).toBeGreaterThan(0);
    expect(ended).toMatchObject({ code: 0, signal: null, stderr: '' });
  });

  it.each([
    ['--help', ['--help']],
    ['search --help', ['search', '--help']],
    ['verify', ['verify']],
    ['stats', ['stats']],
    ['search', ['search', '--limit', '1000']],
  ])('%s ends quietly with exit 0 when the reader is gone before anything is written', async (_, args) => {
    expect(await runClosingStdout(dir, args, 'start')).toMatchObject({ code: 0, signal: null, stderr: '' });
  });

  it('keeps its own exit code, with stderr closed as well: a usage error still exits 2', async () => {
    expect(await runClosingStdout(dir, ['--help'], 'start', true)).toMatchObject({ code: 0, signal: null });
    expect(await runClosingStdout(dir, ['search', '--no-such-option'], 'start', true)).toMatchObject({ code: 2, signal: null });
  });
});

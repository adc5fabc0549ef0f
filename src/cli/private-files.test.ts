import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleCall } from '../ledger/test-support/fixtures.js';
import { ledgerDir, recordInto, run } from './test-support/cli.js';

const mode = (path: string) => statSync(path).mode & 0o777;

// A permissive umask, inherited by the CLI the test spawns: without an explicit mode, files would come out 0644.
let umask: number;
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
});

describe('files the CLI writes are private to their owner', () => {
  it('prove --out and export --out create their files 0600', async () => {
    const dir = await ledgerDir([]);
    const [id] = await recordInto(dir, [sampleCall(0), sampleCall(1)]);
    expect(run(dir, ['prove', id!, '--out', 'bundle.json'])).toMatchObject({ code: 0, stderr: '' });
    expect(run(dir, ['export', '--out', 'all.jsonl'])).toMatchObject({ code: 0 });
    expect(run(dir, ['export', '--format', 'csv', '--out', 'all.csv'])).toMatchObject({ code: 0 });
    expect(['bundle.json', 'all.jsonl', 'all.csv', 'ledger.db', 'signing.key', 'digest.key'].map((f) => [f, mode(join(dir, f))])).toEqual(
      ['bundle.json', 'all.jsonl', 'all.csv', 'ledger.db', 'signing.key', 'digest.key'].map((f) => [f, 0o600]),
    );
    // The anchor of the test config is a directory: 0700, with read-only checkpoint files.
    expect(mode(join(dir, 'anchor'))).toBe(0o700);
  });
});

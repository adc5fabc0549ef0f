import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTestLedger, recordSequentially, tempDir, verifyDir } from './test-support/fixtures.js';

async function jsonlLedgerOf(count: number) {
  const dir = tempDir();
  const ledger = await openTestLedger(dir, { store: 'jsonl' });
  await recordSequentially(ledger, count);
  await ledger.close();
  return dir;
}

/** Rewrites the (single) day file's lines, as someone with a text editor would. */
function editLines(dir: string, edit: (lines: string[]) => string[]): void {
  const name = readdirSync(join(dir, 'jsonl')).find((n) => n.startsWith('audit_'))!;
  const file = join(dir, 'jsonl', name);
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  writeFileSync(file, `${edit(lines).join('\n')}\n`);
}

const verifyJsonl = (dir: string) => verifyDir(dir, { store: 'jsonl' });

describe('verify on a JSONL ledger', () => {
  it('writes one record per line into audit_YYYYMMDD.jsonl and passes when untouched', async () => {
    const dir = await jsonlLedgerOf(8);
    const files = readdirSync(join(dir, 'jsonl')).filter((n) => n.startsWith('audit_'));
    expect(files).toEqual([`audit_${new Date().toISOString().slice(0, 10).replaceAll('-', '')}.jsonl`]);
    expect(
      readFileSync(join(dir, 'jsonl', files[0]!), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(8);
    expect(await verifyJsonl(dir)).toMatchObject({ ok: true, size: 8, firstBadIndex: null });
  });

  it('names the index of a changed field', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => lines.map((l, i) => (i === 5 ? l.replace('"user":"user-2"', '"user":"mallory"') : l)));
    expect((await verifyJsonl(dir)).firstBadIndex).toBe(5);
  });

  it('names the index of a line edited into something that is not JSON', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => lines.map((l, i) => (i === 3 ? l.slice(0, 40) : l)));
    const report = await verifyJsonl(dir);
    expect(report.firstBadIndex).toBe(3);
  });

  it('names the index of a deleted line', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => lines.filter((_, i) => i !== 2));
    const report = await verifyJsonl(dir);
    expect(report.firstBadIndex).toBe(2);
    expect(report.problems[0]).toMatchObject({ kind: 'missing', index: 2 });
  });

  it('names the index of an inserted line', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => [...lines.slice(0, 4), lines[1]!.replace('"index":1', '"index":4'), ...lines.slice(4)]);
    expect((await verifyJsonl(dir)).firstBadIndex).toBe(4);
  });

  it('names the first of two swapped lines', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => lines.map((l, i) => (i === 1 ? lines[6]! : i === 6 ? lines[1]! : l)));
    expect((await verifyJsonl(dir)).firstBadIndex).toBe(1);
  });

  it('catches truncation of every file through the anchor', async () => {
    const dir = await jsonlLedgerOf(8);
    editLines(dir, (lines) => lines.slice(0, 6));
    truncateSync(join(dir, 'jsonl', 'leaves.bin'), 6 * 32);
    const checkpoints = readFileSync(join(dir, 'jsonl', 'checkpoints.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    writeFileSync(join(dir, 'jsonl', 'checkpoints.jsonl'), `${checkpoints.slice(0, 6).join('\n')}\n`);
    const report = await verifyJsonl(dir);
    expect(report.firstBadIndex).toBe(6);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', index: 6 }));
  });

  it('rotates a day file once it reaches max_file_bytes', async () => {
    const dir = tempDir();
    const { openLedger } = await import('./open-ledger.js');
    const { testConfig } = await import('./test-support/fixtures.js');
    const config = testConfig(dir, { store: 'jsonl' });
    const ledger = await openLedger({ ...config, store: { ...config.store, maxFileBytes: 4096 } });
    await recordSequentially(ledger, 12);
    const report = await ledger.verify();
    await ledger.close();
    const files = readdirSync(join(dir, 'jsonl'))
      .filter((n) => n.startsWith('audit_'))
      .sort();
    expect(files.length).toBeGreaterThan(1);
    expect(files[1]).toMatch(/^audit_\d{8}_001\.jsonl$/);
    expect(report).toMatchObject({ ok: true, size: 12 });
  });
});

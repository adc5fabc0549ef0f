import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestLedger, sampleCall } from '../../ledger/test-support/fixtures.js';

/** A small tmpfs of its own (root only): the disk that fills up, and grows again when remounted. */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-full-'));
const unavailable = process.getuid?.() === 0 ? mountTmpfs(dir, '4m') : 'mounting a small disk needs root';
afterAll(() => {
  if (!unavailable) execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(unavailable !== undefined)('a SQLite ledger on a disk that fills up', () => {
  it('names the cause, keeps every record it acknowledged, and takes records again once there is room', async () => {
    const ledger = await openTestLedger(dir, { anchor: false, checkpointIntervalMs: 1000 });
    const acknowledged: string[] = [];
    let failure: Error | undefined;
    for (let i = 0; i < 20_000 && !failure; i++) {
      await ledger.record(sampleCall(i, { metadata: { pad: 'x'.repeat(2000) } })).then(
        (receipt) => acknowledged.push(receipt.id),
        (err: Error) => (failure = err),
      );
    }
    expect(failure?.name).toBe('StoreError');
    expect(failure?.message).toMatch(/disk is full/);
    expect(failure?.message).not.toMatch(/cannot rollback/);
    execFileSync('mount', ['-o', 'remount,size=32m', dir]);
    await ledger.record(sampleCall(1));
    for (const id of acknowledged.filter((_, i) => i % 25 === 0)) expect(await ledger.get(id)).toBeDefined();
    const report = await ledger.verify();
    await ledger.close();
    expect(report).toMatchObject({ ok: true, size: acknowledged.length + 1 });
  });
});

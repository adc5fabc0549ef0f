import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../ledger/test-support/fixtures.js';

// The built binary, as users run it (`npm test` builds before the tests run).
const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function run(cwd: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('llm-ledger CLI', () => {
  it('demo sends traffic through the gateway, then searches, traces, verifies and proves on the SQLite default in the working directory', () => {
    const dir = tempDir();
    const { code, stdout } = run(dir, 'demo');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Recorded 13 calls through the gateway \(2 failed upstream, 1 blocked by policy\)/);
    expect(stdout).toMatch(/event request_blocked +gateway +blocked .* approved-models HTTP 403/);
    expect(stdout).toMatch(
      /event policy_evaluated +policy .* codenames ESCALATE[\s\S]*event review_decided +review .* approved by demo-reviewer[\s\S]*event routing_success/,
    );
    expect(stdout).toMatch(/event routing_attempt_failed +router +error +gpt-4o-mini .* primary HTTP 500 then fallback\n.*event routing_fallback .* openai/);
    expect(stdout).toMatch(/OK: \d+ records verified/);
    expect(stdout).toMatch(/warning: No anchor is configured/);
    expect(stdout).toMatch(/VALID: record .* is at index \d+/);
    expect(stdout).not.toContain('dana@example.com');
    expect(readFileSync(join(dir, 'llm-ledger.db')).length).toBeGreaterThan(0);
  });

  it('verify exits 1 and names the first bad index of a tampered ledger', () => {
    const dir = tempDir();
    expect(run(dir, 'demo').code).toBe(0);
    const db = new DatabaseSync(join(dir, 'llm-ledger.db'));
    db.exec("DROP TRIGGER records_no_update; UPDATE records SET envelope = json_set(envelope, '$.costUsd', 0) WHERE idx = 5");
    db.close();
    const { code, stdout } = run(dir, 'verify');
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED: the log was altered; first bad index 5/);
    const json = JSON.parse(run(dir, 'verify', '--json').stdout) as { ok: boolean; firstBadIndex: number };
    expect(json).toMatchObject({ ok: false, firstBadIndex: 5 });
  });

  it('stats --check exits 0 while the copy stats read agrees with the records, and 1 naming the index once it was changed', () => {
    const dir = tempDir();
    expect(run(dir, 'demo').code).toBe(0);
    const db = new DatabaseSync(join(dir, 'llm-ledger.db'));
    const { calls } = db.prepare("SELECT count(*) AS calls FROM records WHERE kind = 'llm.call'").get() as { calls: number };
    expect(run(dir, 'stats', '--check')).toMatchObject({ code: 0, stdout: `The copies stats read agree with the records (${calls} calls, 0 blocks).\n` });
    const { idx } = db.prepare("SELECT idx FROM records WHERE kind = 'llm.call' ORDER BY idx LIMIT 1 OFFSET 2").get() as { idx: number };
    db.exec(`DROP TRIGGER call_stats_no_update; UPDATE call_stats SET cost_usd = 1000 WHERE idx = ${idx}`);
    db.close();
    const { code, stdout } = run(dir, 'stats', '--check');
    expect(code).toBe(1);
    expect(stdout).toBe(
      `call_stats disagrees with the llm.call records at index ${idx}\nStats read this copy, not the records: their figures would be wrong. 'llm-ledger verify' reports it too.\n`,
    );
    // verify checks the copy as well as the records.
    const verified = run(dir, 'verify');
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(new RegExp(`\\[derived\\] call_stats disagrees with the llm.call records at index ${idx}`));
  });

  it('prove writes a bundle that verify-proof accepts offline and rejects once altered', () => {
    const dir = tempDir();
    run(dir, 'demo');
    const db = new DatabaseSync(join(dir, 'llm-ledger.db'));
    const { id } = db.prepare('SELECT id FROM records WHERE idx = 3').get() as { id: string };
    db.close();
    expect(run(dir, 'prove', id, '--out', 'bundle.json').code).toBe(0);
    const bundle = readFileSync(join(dir, 'bundle.json'), 'utf8');
    const key = (JSON.parse(bundle) as { verifierKey: string }).verifierKey;
    const good = run(dir, 'verify-proof', 'bundle.json', '--key', key);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`VALID: record ${id} is at index 3 .* signed by the trusted key`));
    writeFileSync(join(dir, 'bundle.json'), bundle.replace('"index":3', '"index":4'));
    const bad = run(dir, 'verify-proof', 'bundle.json');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^INVALID: /);
  });

  it('prove and verify-proof exit 2 with a clear message for a file they cannot write or read', () => {
    const dir = tempDir();
    run(dir, 'demo');
    const db = new DatabaseSync(join(dir, 'llm-ledger.db'));
    const { id } = db.prepare('SELECT id FROM records WHERE idx = 0').get() as { id: string };
    db.close();
    expect(run(dir, 'prove', id, '--out', join(dir, 'missing', 'b.json'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot write the bundle to .*missing\/b\.json: ENOENT/),
    });
    expect(run(dir, 'verify-proof', 'nope.json')).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot read the bundle nope\.json: ENOENT/) });
  });

  it('fails with exit 2 and names the key and the nearest valid one for a config typo', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'store:\n  pth: ./x.db\n');
    const { code, stderr } = run(dir, 'verify');
    expect(code).toBe(2);
    expect(stderr).toMatch(/store\.pth/);
    expect(stderr).toMatch(/path/);
  });

  it('shows help with examples', () => {
    expect(execFileSync(process.execPath, [BIN, 'verify', '--help'], { encoding: 'utf8' })).toMatch(/Examples?:[\s\S]*llm-ledger verify/);
  });
});

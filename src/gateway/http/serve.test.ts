import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger } from '../../ledger/open-ledger.js';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream } from '../../providers/simulated/fake-upstream.js';
import { serve } from './serve.js';

// `llm-ledger serve` as users run it: the built binary, a config file, SIGTERM to stop.
const BIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

let fake: FakeUpstream;
beforeEach(async () => {
  fake = await startFakeUpstream();
});
afterEach(() => fake.close());

function writeConfig(dir: string, gateway: string): string {
  const path = join(dir, 'llm-ledger.yaml');
  writeFileSync(
    path,
    `log:\n  checkpoint_interval_ms: 0\ngateway:\n  port: 0\n  providers:\n    openai: { base_url: '${fake.url}' }\n    anthropic: { base_url: '${fake.url}' }\n${gateway}`,
  );
  return path;
}

describe('llm-ledger serve', () => {
  it('serves until SIGTERM, then finishes, writes every record and exits 0', async () => {
    const dir = tempDir();
    writeConfig(dir, '  on_store_failure: spool\n');
    const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    for (let waited = 0; !/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(stdout); waited += 20) {
      if (waited > 15_000) throw new Error(`serve did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(stdout).toMatch(/auth: pass-through .*durability: batched \(5 ms window\); on store failure: spool to .*llm-ledger.spool/);
    const client = new OpenAI({ apiKey: 'sk-serve-test-0123456789abcdefghij', baseURL: `${url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-fake-chunk-delay-ms': '30' } },
    );
    child.kill('SIGTERM');
    let chunks = 0;
    for await (const _chunk of stream) chunks++;
    expect(chunks).toBeGreaterThan(3);
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/SIGTERM: stopping[\s\S]*stopped; every record is written/);

    const ledger = await openLedger(join(dir, 'llm-ledger.yaml'), { readOnly: true });
    expect((await ledger.search({ kind: 'llm.call' })).records.map((r) => r.envelope.status)).toEqual(['success']);
    expect(await ledger.verify()).toMatchObject({ ok: true });
    await ledger.close();
  });

  it('refuses to start, before opening the ledger, when a gateway key variable is missing', async () => {
    const dir = tempDir();
    const config = join(dir, 'llm-ledger.yaml');
    writeFileSync(
      config,
      `gateway:\n  auth: gateway_keys\n  keys: [{ env: LLM_LEDGER_TEST_UNSET_KEY, team: risk }]\n  providers:\n    openai: { base_url: '${fake.url}', api_key: x }\n`,
    );
    const lines: string[] = [];
    await expect(serve({ configPath: config, out: (l) => lines.push(l), err: (l) => lines.push(l), stopSignal: new Promise(() => undefined) })).rejects.toThrow(
      /gateway.keys\[0\].env names LLM_LEDGER_TEST_UNSET_KEY, which is not set/,
    );
    expect(lines).toEqual([]);
    expect(existsSync(join(dir, 'llm-ledger.db'))).toBe(false);
  });
});

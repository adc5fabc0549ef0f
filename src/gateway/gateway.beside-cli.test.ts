import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText, runAsync } from '../cli/test-support/cli.js';
import { loadConfig } from '../config/load.js';
import type { Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open-ledger.js';
import { tempDir } from '../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream } from '../providers/simulated/fake-upstream.js';
import { startGateway, type Gateway } from './http/server.js';

/**
 * The commands an operator runs against the ledger of a running gateway (`erase`, `cleanup`,
 * `show --reveal`) are other processes appending to the same SQLite file. Each batch, whichever
 * process writes it, lands where the log ends (see Sequencer): the gateway keeps answering,
 * every answered call is recorded, and the log verifies.
 */
describe('the gateway beside CLI commands appending to its SQLite ledger', () => {
  let dir = '';
  let fake: FakeUpstream;
  let ledger: Ledger;
  let gateway: Gateway;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = tempDir('llm-ledger-beside-');
    writeFileSync(join(dir, 'current.kek'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    fake = await startFakeUpstream();
    const yaml = configText(`capture:
  prompts: encrypted
  responses: encrypted
encryption:
  kek_file: ./current.kek
retention:
  content_days: 1
gateway:
  port: 0
  durability: sync
  on_store_failure: fail_closed
  providers:
    openai:
      base_url: ${fake.url}
`);
    writeFileSync(join(dir, 'llm-ledger.yaml'), yaml);
    const config = loadConfig({ path: join(dir, 'llm-ledger.yaml'), env: {} });
    ledger = await openLedger(config, { env: {}, onWarning: (line) => logs.push(line) });
    gateway = await startGateway({ ledger, config, env: {}, log: (line) => logs.push(line) });
  });

  afterAll(async () => {
    await gateway?.close({ timeoutMs: 1000 });
    await ledger?.close();
    await fake?.close();
  });

  it('keeps answering and recording while erase, cleanup and show --reveal append; verify passes', async () => {
    const client = new OpenAI({ apiKey: 'sk-client-0123456789abcdefghijklmnop', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const answered: string[] = [];
    const failed: string[] = [];
    let traffic = true;
    const loop = async (n: number) => {
      for (let i = 0; traffic; i++) {
        const user = `user-${n}-${i}`;
        try {
          await client.chat.completions.create(
            { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${user}` }] },
            { headers: { 'x-llm-ledger-user': user } },
          );
          answered.push(user);
        } catch (err) {
          failed.push(`${user}: ${(err as Error).message}`);
        }
      }
    };
    const loops = Array.from({ length: 4 }, (_, n) => loop(n));
    const waitFor = async (count: number) => {
      while (answered.length < count && failed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await waitFor(20);
    const revealed = await ledger.search({ kind: 'llm.call', user: answered[0]! });
    const commands = [
      ['erase', '--user', answered[1]!, '--yes'],
      ['show', revealed.records[0]!.envelope.id, '--reveal', '--reason', 'audit', '--json'],
      ['cleanup'],
      ['erase', '--user', answered[2]!, '--yes'],
      ['show', revealed.records[0]!.envelope.id, '--reveal', '--reason', 'second look', '--json'],
    ];
    const results = [];
    for (const args of commands) {
      results.push({ args: args.join(' '), ...(await runAsync(dir, args)) });
      await waitFor(answered.length + 5);
    }
    traffic = false;
    await Promise.all(loops);

    for (const result of results) expect(result, result.args).toMatchObject({ code: 0 });
    expect(failed).toEqual([]);
    expect(logs.filter((line) => /UNIQUE|cannot append|spool/i.test(line))).toEqual([]);
    await ledger.flush();
    // Every answered call is recorded (durability: sync: recorded before the answer went out).
    const recorded = new Set<string>();
    for await (const batch of ledger.records({ kind: 'llm.call' })) for (const r of batch) recorded.add(r.envelope.user!);
    expect(answered.filter((user) => !recorded.has(user))).toEqual([]);
    // The commands' own records are in the same log, between the gateway's.
    expect((await ledger.search({ kind: 'erasure' })).records.length).toBe(2);
    expect((await ledger.search({ kind: 'content_accessed' })).records.length).toBe(2);
    const report = await ledger.verify();
    expect(report.ok, JSON.stringify(report.problems?.slice(0, 3))).toBe(true);
    const cli = await runAsync(dir, ['verify', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
  }, 60_000);
});

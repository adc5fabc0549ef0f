import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../config/schema.js';
import type { LedgerConfig } from '../../config/schema.js';
import type { LoggedRecord, RecordInput } from '../../record/types.js';
import type { Ledger, LedgerReader } from '../ledger.js';
import type { VerifyReport } from '../verify.js';
import { openLedger } from '../open-ledger.js';

export function tempDir(prefix = 'llm-ledger-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestLedgerOptions {
  store?: LedgerConfig['store']['type'];
  anchor?: boolean;
  checkpointIntervalMs?: number;
}

/** A config rooted in `dir`: keys, store and anchor all live there, nothing in the working directory. */
export function testConfig(dir: string, options: TestLedgerOptions = {}): LedgerConfig {
  const base = defaultConfig(dir);
  const type = options.store ?? 'sqlite';
  return {
    ...base,
    store: { ...base.store, type, path: join(dir, type === 'sqlite' ? 'ledger.db' : 'jsonl') },
    log: {
      ...base.log,
      signingKeyFile: join(dir, 'signing.key'),
      checkpointIntervalMs: options.checkpointIntervalMs ?? 0,
      ...(options.anchor === false ? { anchor: undefined } : { anchor: { path: join(dir, 'anchor') } }),
    },
    digest: { ...base.digest, keyFile: join(dir, 'digest.key') },
  };
}

export function openTestLedger(dir: string, options: TestLedgerOptions = {}): Promise<Ledger> {
  return openLedger(testConfig(dir, options), { onWarning: () => undefined });
}

/** Opens the ledger in `dir` (as configured by `testConfig`), verifies it and closes it. */
export async function verifyDir(dir: string, options: TestLedgerOptions = {}): Promise<VerifyReport> {
  const ledger = await openTestLedger(dir, options);
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

/** A realistic call: about twenty envelope fields. */
export function sampleCall(i: number, overrides: Partial<RecordInput> = {}): RecordInput {
  return {
    provider: i % 2 ? 'anthropic' : 'openai',
    model: i % 2 ? 'claude-sonnet-4' : 'gpt-4o',
    endpoint: i % 2 ? '/v1/messages' : '/v1/chat/completions',
    user: `user-${i % 3}`,
    session: `session-${i % 5}`,
    conversation: `conv-${i % 7}`,
    apiKey: `sk-test-${i % 2}-abcdefghijklmnopqrstuvwxyz`,
    status: 'success',
    httpStatus: 200,
    inputTokens: 100 + i,
    outputTokens: 50 + i,
    latencyMs: 100 + (i % 10) * 10,
    ttftMs: 20,
    costUsd: 0.001 * (i + 1),
    toolsProvided: 2,
    toolCalls: i % 2,
    stopReason: 'stop',
    messageCount: 3,
    content: { system: 'be brief', input: `question ${i}`, output: `answer ${i}` },
    metadata: { app: 'test', n: i },
    ...overrides,
  };
}

/** Records `count` calls one at a time, so with interval 0 every record gets its own checkpoint. */
export async function recordSequentially(ledger: Ledger, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await ledger.record(sampleCall(i))).id);
  return ids;
}

/** Every record matching a search, through every page. */
export async function searchAll(ledger: LedgerReader, filter: Parameters<LedgerReader['search']>[0]): Promise<LoggedRecord[]> {
  const out: LoggedRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.search({ ...filter, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    out.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

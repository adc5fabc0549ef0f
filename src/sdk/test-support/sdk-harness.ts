import Anthropic, { type ClientOptions as AnthropicOptions } from '@anthropic-ai/sdk';
import OpenAI, { type ClientOptions as OpenAIOptions } from 'openai';
import { expect } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { FailingStore } from '../../ledger/test-support/failing-store.js';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream } from '../../providers/simulated/fake-upstream.js';
import type { Envelope } from '../../record/types.js';
import { auditAnthropic } from '../anthropic.js';
import { flushAudit } from '../flush.js';
import type { AuditOptions, LedgerErrorInfo } from '../options.js';
import { auditOpenAI } from '../openai.js';

export const CLIENT_KEY = 'sk-sdk-test-0123456789abcdefghijklmnop';

export interface SdkHarness {
  /** The ledger's directory: database, WAL, anchor, keys. */
  dir: string;
  fake: FakeUpstream;
  ledger: Ledger;
  /** The ledger's real SQLite store, with failure injection. */
  store: FailingStore;
  /** Every `onLedgerError` report of clients made with `openai()` / `anthropic()`. */
  ledgerErrors: Array<{ error: unknown; call: LedgerErrorInfo }>;
  /** The official clients pointed at the fake upstream (no retries unless asked), audited. */
  openai(audit?: AuditOptions, client?: OpenAIOptions): OpenAI;
  anthropic(audit?: AuditOptions, client?: AnthropicOptions): Anthropic;
  /** Waits for the client's records, then returns the newest `llm.call`, checked to verify with the whole log. */
  lastCall(client: object): Promise<Envelope>;
  /** How many `llm.call` records the ledger holds, once `client`'s are committed. */
  callCount(client: object): Promise<number>;
  /** The stored texts of a record (capture is plaintext unless the harness was started with another). */
  revealed(envelope: Envelope): Promise<{ system?: string; input?: string; output?: string; error?: string }>;
  close(): Promise<void>;
}

export interface SdkHarnessOptions {
  /** The `capture` section; default: prompts and responses in plaintext. */
  capture?: Record<string, unknown>;
  /** The ledger's environment (`LLM_LEDGER_KEK` for encrypted capture). */
  env?: NodeJS.ProcessEnv;
}

/** A fake upstream speaking OpenAI and Anthropic, and a SQLite ledger (keeping texts in plaintext unless told otherwise) in a temporary directory. */
export async function startSdkHarness(options: SdkHarnessOptions = {}): Promise<SdkHarness> {
  const dir = tempDir('llm-ledger-sdk-');
  const fake = await startFakeUpstream();
  const config = configSchema(dir).parse({
    store: { path: 'ledger.db' },
    log: { checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    capture: options.capture ?? { prompts: 'plaintext', responses: 'plaintext', allow_plaintext: true },
  });
  let store: FailingStore | undefined;
  const ledger = await openLedger(config, {
    onWarning: () => undefined,
    ...(options.env ? { env: options.env } : {}),
    wrapStore: (inner) => (store = new FailingStore(inner)),
  });
  const ledgerErrors: SdkHarness['ledgerErrors'] = [];
  const onLedgerError = (error: unknown, call: LedgerErrorInfo) => ledgerErrors.push({ error, call });
  const calls = async (): Promise<Envelope[]> => {
    const out: Envelope[] = [];
    for await (const batch of ledger.records({ kind: 'llm.call' })) out.push(...batch.map((record) => record.envelope));
    return out;
  };
  return {
    dir,
    fake,
    ledger,
    store: store!,
    ledgerErrors,
    openai: (audit = {}, client = {}) =>
      auditOpenAI(new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${fake.url}/v1`, maxRetries: 0, ...client }), ledger, { onLedgerError, ...audit }),
    anthropic: (audit = {}, client = {}) =>
      auditAnthropic(new Anthropic({ apiKey: CLIENT_KEY, baseURL: fake.url, maxRetries: 0, ...client }), ledger, { onLedgerError, ...audit }),
    async lastCall(client) {
      await flushAudit(client);
      // Anchoring runs after the commit; verify reads the anchor, so it waits for it.
      await ledger.flush();
      const all = await calls();
      expect(all.length).toBeGreaterThan(0);
      expect(await ledger.verify()).toMatchObject({ ok: true });
      return all[all.length - 1]!;
    },
    async callCount(client) {
      await flushAudit(client);
      return (await calls()).length;
    },
    async revealed(envelope) {
      return (await ledger.reveal(envelope.id, { actor: 'test', reason: 'check what the SDK wrapper captured' })).content;
    },
    async close() {
      await ledger.close();
      await fake.close();
    },
  };
}

export const scenario = (name: string) => ({ headers: { 'x-fake-scenario': name } });

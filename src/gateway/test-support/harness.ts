import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { configSchema, type LedgerConfig } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { FailingStore } from '../../ledger/test-support/failing-store.js';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../../providers/simulated/fake-upstream.js';
import type { Envelope, LoggedRecord } from '../../record/types.js';
import { expect } from 'vitest';
import type { Policy } from '../../policy/types.js';
import { startGateway, type Gateway } from '../http/server.js';

export interface Harness {
  dir: string;
  fake: FakeUpstream;
  gateway: Gateway;
  ledger: Ledger;
  /** The ledger's real SQLite store, with failure injection. */
  store: FailingStore;
  config: LedgerConfig;
  /** Every line the gateway and the ledger logged. */
  logs: string[];
  /** Official SDK clients pointed at the gateway, with `clientKey`, and no retries. */
  openai: OpenAI;
  anthropic: Anthropic;
  /** Every `llm.call` record so far, oldest first, once pending records are committed. */
  calls(): Promise<LoggedRecord[]>;
  /** The record of one request, waiting for it to be committed if need be (batched durability). */
  callFor(requestId: string): Promise<LoggedRecord>;
  /** The call recorded after the first `seen` calls, waiting for it if need be. */
  callAfter(seen: number): Promise<LoggedRecord>;
  /**
   * The trace of one request, in log order, as event types (`llm.call` for the call itself),
   * once its `request_completed` event is committed.
   */
  traceOf(traceId: string): Promise<string[]>;
  /**
   * The events of one type in a trace, in order, as `trace` shows them (an event a call's record
   * carries as the event record it stands for); checks that a search by the type finds their records.
   */
  eventsOf(traceId: string, eventType: string): Promise<Envelope[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The `gateway` section, in YAML's snake_case; `providers` defaults to the fake for both formats. */
  gateway?: Record<string, unknown>;
  /** The `capture` section. */
  capture?: Record<string, unknown>;
  fake?: FakeUpstreamOptions;
  /** The key the SDK clients send. */
  clientKey?: string;
  /** Provider keys for the default providers (both pointed at the fake), for auth: gateway_keys. */
  providerKeys?: { openai: string; anthropic: string };
  env?: NodeJS.ProcessEnv;
  /** Policies given in code, after the configured ones. */
  policies?: readonly Policy[];
}

/**
 * A fake upstream speaking OpenAI and Anthropic, the gateway in front of it over a real SQLite
 * ledger in a temporary directory, and the official SDKs pointed at the gateway.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = tempDir('llm-ledger-gateway-');
  const fake = await startFakeUpstream(options.fake);
  const { providers, ...gatewayRest } = options.gateway ?? {};
  const config = configSchema(dir).parse({
    store: { path: 'ledger.db' },
    log: { checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    capture: options.capture ?? {},
    gateway: {
      port: 0,
      providers: providers ?? {
        openai: { base_url: fake.url, ...(options.providerKeys ? { api_key: options.providerKeys.openai } : {}) },
        anthropic: { base_url: fake.url, ...(options.providerKeys ? { api_key: options.providerKeys.anthropic } : {}) },
      },
      retry_interval_ms: 20,
      ...gatewayRest,
    },
  });
  const logs: string[] = [];
  let store: FailingStore | undefined;
  const ledger = await openLedger(config, {
    env: options.env ?? {},
    onWarning: (line) => logs.push(line),
    scheduleCleanup: true,
    retryIntervalMs: config.gateway.retryIntervalMs,
    ...(config.gateway.onStoreFailure === 'spool' ? { spoolFile: config.gateway.spoolFile } : {}),
    wrapStore: (inner) => (store = new FailingStore(inner)),
  });
  const gateway = await startGateway({
    ledger,
    config,
    env: options.env ?? {},
    log: (line) => logs.push(line),
    ...(options.policies ? { policies: options.policies } : {}),
  });
  const clientKey = options.clientKey ?? 'sk-client-0123456789abcdefghijklmnop';
  const calls = async () => {
    const out: LoggedRecord[] = [];
    for await (const batch of ledger.records({ kind: 'llm.call' })) out.push(...batch);
    return out;
  };
  return {
    dir,
    fake,
    gateway,
    ledger,
    store: store!,
    config,
    logs,
    openai: new OpenAI({ apiKey: clientKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: clientKey, baseURL: gateway.url, maxRetries: 0 }),
    calls,
    async callFor(requestId) {
      for (let waited = 0; ; waited += 5) {
        const [found] = (await ledger.search({ requestId, kind: 'llm.call' })).records;
        if (found) return found;
        if (waited > 5000) throw new Error(`no llm.call record for request ${requestId}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async callAfter(seen) {
      for (let waited = 0; ; waited += 5) {
        const all = await calls();
        if (all.length > seen) return all[seen]!;
        if (waited > 5000) throw new Error(`no call recorded after the first ${seen}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async traceOf(traceId) {
      for (let waited = 0; ; waited += 5) {
        const records = await ledger.trace(traceId);
        if (records.some((r) => r.envelope.eventType === 'request_completed')) return records.map((r) => r.envelope.eventType ?? r.envelope.kind);
        if (waited > 5000)
          throw new Error(`trace ${traceId} has no request_completed event: ${records.map((r) => r.envelope.eventType ?? r.envelope.kind).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async eventsOf(traceId, eventType) {
      const entries = (await ledger.trace(traceId)).filter((entry) => entry.envelope.eventType === eventType);
      const found = (await ledger.search({ traceId, eventType, limit: 1000 })).records.map((r) => r.index);
      expect(found.reverse()).toEqual([...new Set(entries.map((entry) => entry.index))]);
      return entries.map((entry) => entry.envelope);
    },
    async close() {
      await gateway.close({ timeoutMs: 1000 });
      await ledger.close();
      await fake.close();
    },
  };
}

/** Every file under `dir` whose bytes contain `secret` (database, WAL, spool, anchor, keys). */
export function filesContaining(dir: string, secret: string): string[] {
  const needle = Buffer.from(secret);
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesContaining(path, secret));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

export const scenario = (name: string) => ({ headers: { 'x-fake-scenario': name } });

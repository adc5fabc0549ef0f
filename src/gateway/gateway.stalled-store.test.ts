import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import type { Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open-ledger.js';
import { FailingStore } from '../ledger/test-support/failing-store.js';
import { tempDir } from '../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream } from '../providers/simulated/fake-upstream.js';
import type { Appended, AppendRequest, NewEntry } from '../store/store.js';
import { startGateway, type Gateway } from './http/server.js';

/**
 * A store whose appends, while `hung`, neither succeed nor fail until released: a store with no
 * time limit of its own on a stuck disk. The gateway holds it to store.append_timeout_ms itself.
 */
class HangingStore extends FailingStore {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hang(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    if (this.gate) await this.gate;
    return super.append(entries, request);
  }
}

const DEADLINE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a store that stops answering without failing (no time limit of its own)', () => {
  let fake: FakeUpstream;
  let gateway: Gateway | undefined;
  let ledger: Ledger | undefined;
  let store: HangingStore;
  afterEach(async () => {
    store?.release();
    await gateway?.close({ timeoutMs: 1000 });
    await ledger?.close();
    await fake?.close();
  });

  async function start(gatewayConfig: Record<string, unknown>): Promise<string> {
    fake = await startFakeUpstream();
    const config = configSchema(tempDir()).parse({
      store: { path: 'ledger.db', append_timeout_ms: DEADLINE_MS },
      log: { checkpoint_interval_ms: 0 },
      gateway: { port: 0, retry_interval_ms: 50, providers: { openai: { base_url: fake.url } }, ...gatewayConfig },
    });
    ledger = await openLedger(config, { onWarning: () => undefined, retryIntervalMs: 50, wrapStore: (inner) => (store = new HangingStore(inner)) });
    gateway = await startGateway({ ledger, config, log: () => undefined });
    return gateway.url;
  }

  const call = async (url: string, id: string) => {
    const began = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-stall-test-0123456789abcdefghij', 'x-request-id': id },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { error?: { type: string; message: string } };
    return { status: response.status, error: body.error, ms: performance.now() - began };
  };
  const health = async (url: string) => {
    const response = await fetch(`${url}/health`);
    return { code: response.status, body: (await response.json()) as { status: string; store: { available: boolean; stalledSince?: string } } };
  };

  it('fail_closed, sync: the answer is withheld (503) once append_timeout_ms has passed, /health refuses while the write hangs, and all recovers when the store answers', async () => {
    const url = await start({ durability: 'sync', on_store_failure: 'fail_closed' });
    expect((await call(url, 'before')).status).toBe(200);

    store.hang();
    const withheld = await call(url, 'withheld');
    expect(withheld).toMatchObject({ status: 503, error: { type: 'ledger_unavailable', message: expect.stringMatching(/could not record this call/) } });
    expect(withheld.ms).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(withheld.ms).toBeLessThan(DEADLINE_MS + 500);
    // Nothing has failed, but a write has been pending past the limit: the store counts as failing.
    expect(ledger!.storeHealth().available).toBe(true);
    const stalled = await health(url);
    expect(stalled).toMatchObject({ code: 503, body: { status: 'refusing', store: { available: false, stalledSince: expect.any(String) } } });
    const upstreamCalls = fake.requests.length;
    const refused = await call(url, 'refused');
    expect(refused).toMatchObject({ status: 503, error: { message: expect.stringMatching(/fails closed .*no call was made/) } });
    expect(refused.ms).toBeLessThan(DEADLINE_MS);
    expect(fake.requests.length).toBe(upstreamCalls);

    store.release();
    for (let waited = 0; (await health(url)).body.status !== 'ok'; waited += 20) {
      if (waited > 5000) throw new Error('the gateway did not find the store working again');
      await sleep(20);
    }
    expect((await call(url, 'after')).status).toBe(200);
    // The withheld call's records were committed late: its answer was withheld, the call is on record.
    const calls = (await ledger!.search({ kind: 'llm.call' })).records.map((r) => r.envelope.requestId).reverse();
    expect(calls).toEqual(['before', 'withheld', 'after']);
    expect(await ledger!.verify()).toMatchObject({ ok: true });
  });

  it('batched: /health reports the store as failing while a write is pending past append_timeout_ms, and ok once it is done', async () => {
    const url = await start({ durability: 'batched', on_store_failure: 'spool', spool_file: 'ledger.spool' });
    store.hang();
    // Batched: answered at once; its records wait for the store.
    expect((await call(url, 'pending')).status).toBe(200);
    expect((await health(url)).body).toMatchObject({ status: 'ok', store: { available: true } });
    await sleep(DEADLINE_MS + 50);
    const stalled = await health(url);
    expect(stalled.code).toBe(200);
    expect(stalled.body).toMatchObject({ status: 'spooling', store: { available: false, stalledSince: expect.any(String) } });
    store.release();
    for (let waited = 0; (await health(url)).body.status !== 'ok'; waited += 20) {
      if (waited > 5000) throw new Error('the gateway did not find the store working again');
      await sleep(20);
    }
    expect((await health(url)).body.store).not.toHaveProperty('stalledSince');
  });
});

import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_ANSWER } from '../providers/simulated/fake-scenarios.js';
import { scenario, startHarness, type Harness, type HarnessOptions } from './test-support/harness.js';

// Timeouts, disconnects, unreachable upstreams, a failing store in both failure modes, sync
// durability and graceful shutdown; each ends with the records and `verify`.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}

const messages = [{ role: 'user' as const, content: 'Say hello.' }];
/** A plain call's trace: request_received, routing_start, routing_success, llm.call, request_completed. */
const RECORDS_PER_CALL = 1;
const gpt = { model: 'gpt-4o', messages };
type ApiError = InstanceType<typeof OpenAI.APIError>;

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gateway timeouts and disconnects', () => {
  it('answers 504 when the upstream does not answer in time, and records the timeout', async () => {
    const { openai, ...rest } = await harness({ gateway: { request_timeout_ms: 300 } });
    const started = performance.now();
    const error = (await openai.chat.completions
      .create(gpt, { headers: { 'x-fake-scenario': 'slow', 'x-fake-response-delay-ms': '5000' } })
      .catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(504);
    expect(error.message).toMatch(/did not finish answering within gateway.request_timeout_ms \(300 ms\)/);
    expect(performance.now() - started).toBeLessThan(3000);
    const record = (await rest.callFor(error.headers!.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({ status: 'error', httpStatus: 504, model: 'gpt-4o', provider: 'openai' });
    expect(record.latencyMs).toBeGreaterThanOrEqual(300);
    expect(await rest.ledger.verify()).toMatchObject({ ok: true });
  });

  it('cuts off a stream that stalls past the timeout, keeping what had arrived in the record', async () => {
    const g = await harness({ gateway: { request_timeout_ms: 300 } });
    const { data: stream, response } = await g.openai.chat.completions.create({ ...gpt, stream: true }, scenario('stall')).withResponse();
    const seen: string[] = [];
    await expect(async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    }).rejects.toThrow();
    expect(seen.length).toBeGreaterThan(0);
    const record = (await g.callFor(response.headers.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({
      status: 'error',
      httpStatus: 200,
      error: expect.stringMatching(/request_timeout_ms/),
      metadata: { gateway: { streamCompleted: false } },
    });
  });

  it('records a client that disconnects mid-stream as aborted, and cancels the upstream call', async () => {
    const g = await harness({ capture: { responses: 'plaintext', allow_plaintext: true } });
    const controller = new AbortController();
    const { data: stream, response } = await g.openai.chat.completions
      .create({ ...gpt, stream: true }, { ...scenario('stall'), signal: controller.signal })
      .withResponse();
    const seen: string[] = [];
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content ?? '');
      if (seen.length === 2) setTimeout(() => controller.abort(), 30);
    }
    const record = (await g.callFor(response.headers.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({ status: 'aborted', httpStatus: 200, model: 'gpt-4o' });
    expect(record.ttftMs).toBeGreaterThan(0);
    const { content } = await g.ledger.reveal(record.id, { actor: 'test', reason: 'partial answer' });
    expect(FAKE_ANSWER.startsWith(content.output!)).toBe(true);
    await until(() => g.fake.requests.at(-1)!.clientClosed, 'the upstream call to be cancelled');
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('answers 502 when the upstream cannot be reached, and records it', async () => {
    const g = await harness({ gateway: { providers: { openai: { base_url: 'http://127.0.0.1:1' }, anthropic: { base_url: 'http://127.0.0.1:1' } } } });
    const error = (await g.openai.chat.completions.create(gpt).catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/cannot reach the upstream openai: ECONNREFUSED/);
    expect((await g.callFor(error.headers!.get('x-request-id')!)).envelope).toMatchObject({ status: 'error', httpStatus: 502 });
  });
});

describe('gateway durability', () => {
  it('sync: the answer reaches the client only once its record is committed', async () => {
    const g = await harness({ gateway: { durability: 'sync' } });
    for (const stream of [false, true]) {
      const { data, response } = await g.openai.chat.completions.create({ ...gpt, stream }).withResponse();
      if (stream) for await (const _chunk of data as AsyncIterable<unknown>);
      // No waiting: the record must already be there.
      const found = await g.ledger.search({ requestId: response.headers.get('x-request-id')!, kind: 'llm.call' });
      expect(found.records).toHaveLength(1);
    }
  });

  it('sync: an answer whose record cannot be written is withheld with 503', async () => {
    const g = await harness({ gateway: { durability: 'sync' } });
    g.store.down = true;
    const error = (await g.openai.chat.completions.create(gpt).catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/could not record this call, so its answer is withheld/);
    expect(g.logs.some((line) => /could not be written: .*disk I\/O error/.test(line))).toBe(true);
  });

  it('fail_closed: once the store fails, calls are refused with 503 and never reach the upstream; the outage is recorded', async () => {
    const g = await harness({ gateway: { on_store_failure: 'fail_closed' } });
    const { response } = await g.openai.chat.completions.create(gpt).withResponse();
    await g.callFor(response.headers.get('x-request-id')!);
    g.store.down = true;
    // Batched: this answer is already on its way when its record fails; the failure is logged and counted.
    await g.openai.chat.completions.create(gpt);
    await until(() => !g.ledger.storeHealth().available, 'the store failure to be noticed');
    expect(g.logs.some((line) => /could not be written/.test(line))).toBe(true);

    const upstreamCalls = g.fake.requests.length;
    const refusal = (await g.openai.chat.completions.create(gpt).catch((caught: unknown) => caught)) as ApiError;
    expect(refusal.status).toBe(503);
    expect(refusal.headers?.get('retry-after')).toBe('1');
    expect(refusal.error).toMatchObject({ type: 'ledger_unavailable', message: expect.stringMatching(/fails closed .*no call was made/) });
    expect(g.fake.requests.length).toBe(upstreamCalls);
    const health = await fetch(`${g.gateway.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'refusing', store: { available: false }, failedRecords: RECORDS_PER_CALL });

    g.store.down = false;
    await until(() => g.ledger.storeHealth().available, 'the store to be found working again');
    await g.openai.chat.completions.create(gpt);
    await until(async () => (await g.ledger.search({ eventType: 'requests_refused' })).records.length === 1, 'the refusals to be recorded');
    expect((await g.ledger.search({ eventType: 'requests_refused' })).records[0]!.envelope).toMatchObject({
      component: 'gateway',
      status: 'blocked',
      metadata: { count: 1 },
    });
    expect((await g.ledger.search({ eventType: 'store_outage' })).records[0]!.envelope.metadata).toMatchObject({
      failedRecords: RECORDS_PER_CALL,
      spooledRecords: 0,
    });
    await until(async () => (await g.calls()).length === 2, 'the last call to be recorded');
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('spool: calls go on while the store is down, their records wait in the spool and are replayed in order; verify passes', async () => {
    const g = await harness({ gateway: { on_store_failure: 'spool', durability: 'sync' } });
    await g.openai.chat.completions.create({ ...gpt, model: 'gpt-4o' });
    g.store.down = true;
    const during = ['gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini'];
    for (const model of during) await g.openai.chat.completions.create({ ...gpt, model });
    const stream = await g.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages, stream: true });
    for await (const _event of stream);
    expect(g.ledger.storeHealth()).toMatchObject({ available: false, spooled: 4 * RECORDS_PER_CALL });
    const health = await fetch(`${g.gateway.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'spooling', store: { spooled: 4 * RECORDS_PER_CALL } });

    g.store.down = false;
    await until(() => g.ledger.storeHealth().spooled === 0 && g.ledger.storeHealth().available, 'the spool to be replayed');
    await g.openai.chat.completions.create({ ...gpt, model: 'o3' });
    expect((await g.calls()).map((r) => r.envelope.model)).toEqual(['gpt-4o', ...during, 'claude-haiku-4-5', 'o3']);
    await until(async () => (await g.ledger.search({ eventType: 'store_outage' })).records.length === 1, 'the outage to be recorded');
    expect((await g.ledger.search({ eventType: 'store_outage' })).records[0]!.envelope.metadata).toMatchObject({
      spooledRecords: 4 * RECORDS_PER_CALL,
      failedRecords: 0,
    });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });
});

describe('gateway shutdown', () => {
  it('lets a stream in flight finish, records it, and refuses new connections', async () => {
    const g = await harness();
    const { data: stream, response } = await g.openai.chat.completions
      .create({ ...gpt, stream: true }, { headers: { 'x-fake-chunk-delay-ms': '40' } })
      .withResponse();
    const closing = g.gateway.close({ timeoutMs: 10_000 });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    await closing;
    expect(text).toBe(FAKE_ANSWER);
    await expect(fetch(`${g.gateway.url}/health`)).rejects.toThrow();
    expect((await g.callFor(response.headers.get('x-request-id')!)).envelope).toMatchObject({ status: 'success' });
  });

  it('cuts off what is still running when the shutdown timeout passes, recording it as aborted', async () => {
    const g = await harness();
    const { data: stream, response } = await g.openai.chat.completions.create({ ...gpt, stream: true }, scenario('stall')).withResponse();
    const reading = (async () => {
      for await (const _chunk of stream);
    })().catch(() => undefined);
    await g.gateway.close({ timeoutMs: 100 });
    await reading;
    expect((await g.callFor(response.headers.get('x-request-id')!)).envelope).toMatchObject({ status: 'aborted' });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });
});

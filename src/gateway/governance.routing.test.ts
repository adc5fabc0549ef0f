import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_ANSWER } from '../providers/simulated/fake-scenarios.js';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../providers/simulated/fake-upstream.js';
import { startHarness, type Harness } from './test-support/harness.js';

// Routing with retries and fallbacks, end to end: a primary and a backup fake upstream, each
// scripted to fail its first calls, behind the gateway. One `llm.call` per client request; each
// attempt is an event in its trace.

let h: Harness | undefined;
const fakes: FakeUpstream[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const started = await startFakeUpstream(options);
  fakes.push(started);
  return started;
}

async function route(primary: FakeUpstream, backup: FakeUpstream | string, retry: Record<string, number> = {}): Promise<Harness> {
  h = await startHarness({
    gateway: {
      providers: {
        primary: { format: 'openai', base_url: primary.url },
        backup: { format: 'openai', base_url: typeof backup === 'string' ? backup : backup.url },
        anthropic: { base_url: primary.url },
      },
      models: [{ match: 'gpt-4o', providers: ['primary', { provider: 'backup', model: 'gpt-4o-2024-08-06' }] }],
      retry: { initial_backoff_ms: 10, max_backoff_ms: 20, ...retry },
    },
  });
  return h;
}

type ApiError = InstanceType<typeof OpenAI.APIError>;
const ask = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Say hello.' }] };

describe('governance: routing with retries and fallbacks', () => {
  it('falls back to the next provider when the primary answers 500, renaming the model for it', async () => {
    const primary = await fake({ script: ['error-500'] });
    const backup = await fake();
    const g = await route(primary, backup);
    const { data, response } = await g.openai.chat.completions.create(ask).withResponse();
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(primary.requests).toHaveLength(1);
    expect((backup.requests[0]!.json as { model: string }).model).toBe('gpt-4o-2024-08-06');
    const traceId = response.headers.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    const records = await g.ledger.trace(traceId);
    expect(records.find((r) => r.envelope.eventType === 'routing_attempt_failed')!.envelope).toMatchObject({
      provider: 'primary',
      httpStatus: 500,
      metadata: { attempt: 1, next: 'fallback' },
    });
    expect(records.find((r) => r.envelope.eventType === 'routing_fallback')!.envelope).toMatchObject({
      provider: 'backup',
      model: 'gpt-4o-2024-08-06',
      metadata: { from: 'primary', to: 'backup' },
    });
    const calls = await g.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.envelope).toMatchObject({
      provider: 'backup',
      status: 'success',
      httpStatus: 200,
      metadata: { gateway: { upstreamModel: 'gpt-4o-2024-08-06', attempts: 2 } },
    });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('waits as Retry-After asks after a 429, then retries the same provider', async () => {
    const primary = await fake({ script: ['error-429'] });
    const backup = await fake();
    const g = await route(primary, backup, { max_retries: 1 });
    const started = performance.now();
    const { response } = await g.openai.chat.completions.create(ask).withResponse();
    // The fake's 429 says retry-after: 1, far above the configured backoff of at most 20 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(0);
    const traceId = response.headers.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    const [failed] = await g.eventsOf(traceId, 'routing_attempt_failed');
    expect(failed).toMatchObject({ httpStatus: 429, metadata: { next: 'retry', retryInMs: 1000, retryAfterMs: 1000 } });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('moves on to the next provider when Retry-After is longer than gateway.retry.max_retry_after_ms', async () => {
    const primary = await fake({ script: ['error-429'] });
    const backup = await fake();
    const g = await route(primary, backup, { max_retries: 3, max_retry_after_ms: 100 });
    const { response } = await g.openai.chat.completions.create(ask).withResponse();
    expect(primary.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(1);
    expect(await g.traceOf(response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('gives up on an attempt that sends no answer within attempt_timeout_ms, and falls back', async () => {
    const primary = await fake({ script: ['slow'], slowMs: 5000 });
    const backup = await fake();
    const g = await route(primary, backup, { attempt_timeout_ms: 200 });
    const started = performance.now();
    const { data, response } = await g.openai.chat.completions.create(ask).withResponse();
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(performance.now() - started).toBeLessThan(3000);
    const traceId = response.headers.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    const [failed] = await g.eventsOf(traceId, 'routing_attempt_failed');
    expect(failed).toMatchObject({
      provider: 'primary',
      error: 'the upstream primary sent no answer within 200 ms',
      metadata: { timedOut: true, next: 'fallback' },
    });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('retries a provider it cannot reach, then falls back', async () => {
    const backup = await fake();
    h = await startHarness({
      gateway: {
        providers: {
          primary: { format: 'openai', base_url: 'http://127.0.0.1:1' },
          backup: { format: 'openai', base_url: backup.url },
          anthropic: { base_url: backup.url },
        },
        models: [{ match: 'gpt-*', providers: ['primary', 'backup'], retry: { max_retries: 1, initial_backoff_ms: 5 } }],
      },
    });
    const { response } = await h.openai.chat.completions.create(ask).withResponse();
    expect(await h.traceOf(response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    const failures = await h.eventsOf(response.headers.get('x-trace-id')!, 'routing_attempt_failed');
    expect(failures.map((e) => [e.provider, e.metadata?.next])).toEqual([
      ['primary', 'retry'],
      ['primary', 'fallback'],
    ]);
    expect(failures[0]!.error).toMatch(/cannot reach the upstream primary: ECONNREFUSED/);
    expect(await h.ledger.verify()).toMatchObject({ ok: true });
  });

  it('when every provider fails, gives the client the last upstream answer unchanged and records routing_failed', async () => {
    const primary = await fake({ script: ['error-500', 'error-500'] });
    const backup = await fake({ script: ['error-500', 'error-500'] });
    const g = await route(primary, backup, { max_retries: 1 });
    const error = (await g.openai.chat.completions.create(ask).catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(500);
    expect(error.message).toContain('The server had an error while processing your request');
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(2);
    const traceId = error.headers!.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_attempt_failed',
      'routing_attempt_failed',
      'routing_failed',
      'llm.call',
      'request_completed',
    ]);
    const calls = await g.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.envelope).toMatchObject({ status: 'error', httpStatus: 500, provider: 'backup', metadata: { gateway: { attempts: 4 } } });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('when no provider can be reached at all, answers 502 and records routing_failed', async () => {
    h = await startHarness({ gateway: { providers: { openai: { base_url: 'http://127.0.0.1:1' }, anthropic: { base_url: 'http://127.0.0.1:1' } } } });
    const error = (await h.openai.chat.completions.create(ask).catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(502);
    expect(await h.traceOf(error.headers!.get('x-trace-id')!)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_failed',
      'llm.call',
      'request_completed',
    ]);
    expect(await h.ledger.verify()).toMatchObject({ ok: true });
  });

  it('falls back for Anthropic streams too, before the stream begins', async () => {
    const primary = await fake({ script: ['error-529'] });
    const backup = await fake();
    h = await startHarness({
      gateway: {
        providers: {
          openai: { base_url: backup.url },
          primary: { format: 'anthropic', base_url: primary.url },
          backup: { format: 'anthropic', base_url: backup.url },
        },
        models: [{ match: 'claude-*', providers: ['primary', 'backup'] }],
      },
    });
    const message = await h.anthropic.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });
    const call = await h.callAfter(0);
    expect(call.envelope).toMatchObject({ provider: 'backup', status: 'success', metadata: { gateway: { attempts: 2 } } });
    expect(await h.traceOf(call.envelope.traceId)).toEqual([
      'request_received',
      'routing_start',
      'routing_attempt_failed',
      'routing_fallback',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    expect(await h.ledger.verify()).toMatchObject({ ok: true });
  });
});

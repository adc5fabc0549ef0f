import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterForPath } from '../src/providers/adapters.js';
import { observeStream } from '../src/providers/stream-observer.js';
import { startBenchUpstream, type BenchUpstream } from './gateway-upstream.js';
import { keepAliveAgent, percentile, runBlock, Samples } from './gateway-load.js';

// The benchmark is only worth its numbers if the gateway records real calls from this upstream:
// the adapter must read its answers as complete calls with usage, as it reads OpenAI's.
const chat = adapterForPath('/v1/chat/completions')!;
const post = (url: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer sk-test-0123456789' }) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the gateway benchmark upstream', () => {
  let upstream: BenchUpstream;
  beforeAll(async () => {
    upstream = await startBenchUpstream();
  });
  afterAll(() => upstream.close());

  it('answers a plain chat completion the OpenAI adapter reads in full', async () => {
    const res = await post(upstream.url, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).not.toBeNull();
    const facts = chat.describeResponse(await res.json(), 200);
    expect(facts).toMatchObject({ stopReason: 'stop', usage: { inputTokens: 42, outputTokens: 16 } });
    expect(facts.error).toBeUndefined();
  });

  it('streams SSE frames that end with usage and [DONE]', async () => {
    const res = await post(upstream.url, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const observer = observeStream(chat, { startedAt: performance.now() });
    observer.push(new Uint8Array(await res.arrayBuffer()));
    const facts = observer.end();
    expect(facts).toMatchObject({
      stopReason: 'stop',
      output: 'The ledger keeps every call: who asked, what it cost, and a proof that nothing changed.',
      usage: { inputTokens: 42, outputTokens: 16 },
    });
    expect(facts.stream).toMatchObject({ completed: true, malformedEvents: 0 });
  });

  it('refuses what the benchmark never sends, and counts it, so a gateway that changes a request is caught', async () => {
    const before = upstream.served.rejected;
    expect((await post(upstream.url, { messages: [] })).status).toBe(400);
    expect((await post(upstream.url, { model: 'gpt-4o-mini' }, {})).status).toBe(400);
    expect(upstream.served.rejected).toBe(before + 2);
  });

  it('is timed by the load generator over kept-alive connections, first byte no later than the last', async () => {
    const agent = keepAliveAgent(4);
    const samples = new Samples(40);
    await runBlock(agent, { name: 'direct', url: upstream.url, headers: {} }, 'stream', 4, 40, samples);
    agent.destroy();
    expect(samples.count).toBe(40);
    for (let i = 0; i < samples.count; i++) expect(samples.firstMs[i]!).toBeLessThanOrEqual(samples.totalMs[i]!);
    expect(percentile(samples.totalMs, samples.count, 0.5)).toBeGreaterThan(0);
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    const values = Float64Array.from([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(percentile(values, 10, 0.5)).toBe(5);
    expect(percentile(values, 10, 0.99)).toBe(10);
    expect(percentile(values, 10, 0.1)).toBe(1);
    // Only the first `count` values count.
    expect(percentile(values, 3, 0.99)).toBe(5);
  });
});

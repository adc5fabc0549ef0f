import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPricing } from '../providers/pricing.js';
import { FAKE_ANSWER, FAKE_OPENAI_USAGE, FAKE_TOOL } from '../providers/simulated/fake-scenarios.js';
import type { Envelope } from '../record/types.js';
import { scenario, startHarness, type Harness } from './test-support/harness.js';

// The official OpenAI SDK -> the gateway -> a fake upstream speaking OpenAI's wire format.
// After each call: the record, its usage and cost, its trace, and verify.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ capture: { prompts: 'plaintext', responses: 'plaintext', allow_plaintext: true } });
});
afterAll(() => h.close());

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Say hello.' },
];
const USAGE = {
  inputTokens: FAKE_OPENAI_USAGE.prompt,
  cachedTokens: FAKE_OPENAI_USAGE.cached,
  outputTokens: FAKE_OPENAI_USAGE.completion,
  reasoningTokens: FAKE_OPENAI_USAGE.reasoning,
};
// gpt-4o: $2.50 per million uncached input, $1.25 cached, $10 output (reasoning is inside output).
const GPT_4O_COST = ((50 - 20) * 2.5 + 20 * 1.25 + 12 * 10) / 1e6;

/** The record of a request, checked against the trace and the whole log's verification. */
async function recordOf(requestId: string | null | undefined): Promise<Envelope> {
  expect(requestId).toBeTruthy();
  const record = await h.callFor(requestId!);
  const trace = await h.ledger.trace(record.envelope.traceId);
  expect(trace.map((r) => r.envelope.id)).toContain(record.envelope.id);
  expect(await h.ledger.verify()).toMatchObject({ ok: true });
  return record.envelope;
}

async function revealed(envelope: Envelope) {
  return (await h.ledger.reveal(envelope.id, { actor: 'test', reason: 'check capture' })).content;
}

describe('gateway, OpenAI chat completions through the official SDK', () => {
  it('relays a plain answer unchanged and records model, usage, cost, latency, ids and texts', async () => {
    const { data, response } = await h.openai.chat.completions
      .create({ model: 'gpt-4o', messages }, { headers: { 'x-llm-ledger-user': 'alice', 'x-llm-ledger-session': 's-1' } })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(response.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('x-upstream-request-id')).toMatch(/^req_/);

    const record = await recordOf(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      kind: 'llm.call',
      component: 'gateway',
      traceId: response.headers.get('x-trace-id'),
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o',
      user: 'alice',
      session: 's-1',
      status: 'success',
      httpStatus: 200,
      ...USAGE,
      messageCount: 2,
      stopReason: 'stop',
      toolCalls: 0,
      metadata: { gateway: { upstreamRequestId: response.headers.get('x-upstream-request-id') } },
    });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    expect(record.latencyMs).toBeGreaterThan(0);
    expect(record.ttftMs).toBeUndefined();
    expect(await revealed(record)).toEqual({ system: 'Be brief.', input: 'user: Say hello.', output: FAKE_ANSWER });
  });

  it('streams chunk by chunk and records the assembled answer, usage and time to first token', async () => {
    const { data: stream, response } = await h.openai.chat.completions
      .create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      chunks++;
    }
    expect(text).toBe(FAKE_ANSWER);
    expect(chunks).toBeGreaterThan(3);

    const record = await recordOf(response.headers.get('x-request-id'));
    expect(record).toMatchObject({ status: 'success', httpStatus: 200, model: 'gpt-4o', ...USAGE, stopReason: 'stop' });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    expect(record.ttftMs).toBeGreaterThan(0);
    expect(record.ttftMs).toBeLessThanOrEqual(record.latencyMs!);
    expect((await revealed(record)).output).toBe(FAKE_ANSWER);
  });

  it('sends each upstream chunk on at once: the client sees the first chunk before the upstream has finished', async () => {
    const started = performance.now();
    const stream = await h.openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, { headers: { 'x-fake-chunk-delay-ms': '60' } });
    const arrivals: number[] = [];
    for await (const _chunk of stream) arrivals.push(performance.now() - started);
    // With 60 ms between upstream frames, a buffering gateway would deliver everything at the end.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(60 * (arrivals.length - 2) * 0.8);
  });

  it('records tool calls, plain and streamed with the SDK stream helper', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'lookup_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const { data, response } = await h.openai.chat.completions.create({ model: 'gpt-4o', messages, tools }, scenario('tool')).withResponse();
    expect(data.choices[0]!.message.tool_calls).toHaveLength(1);
    expect(await recordOf(response.headers.get('x-request-id'))).toMatchObject({ toolsProvided: 1, toolCalls: 1, stopReason: 'tool_calls', status: 'success' });

    const seen = (await h.calls()).length;
    const runner = h.openai.chat.completions.stream({ model: 'gpt-4o', messages, tools }, scenario('tool'));
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(FAKE_TOOL.arguments);
    const streamed = (await h.callAfter(seen)).envelope;
    expect(streamed).toMatchObject({ toolsProvided: 1, toolCalls: 1, stopReason: 'tool_calls' });
  });

  it.each([
    ['error-400', 400, OpenAI.BadRequestError],
    ['error-429', 429, OpenAI.RateLimitError],
    ['error-500', 500, OpenAI.InternalServerError],
  ] as const)('passes upstream %s through unchanged and records it as an error', async (name, status, ErrorClass) => {
    const before = h.fake.requests.length;
    const error = (await h.openai.chat.completions.create({ model: 'gpt-4o', messages }, scenario(name)).catch((caught: unknown) => caught)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.status).toBe(status);
    const upstream = h.fake.requests[before]!;
    expect(JSON.stringify(error.error)).toBe(JSON.stringify(JSON.parse(upstream.responseBody).error));

    const record = await recordOf(error.headers?.get('x-request-id'));
    expect(record).toMatchObject({ status: 'error', httpStatus: status, model: 'gpt-4o' });
    expect(record.error).toMatch(new RegExp(`HTTP ${status}`));
    expect(record.costUsd).toBeUndefined();
  });

  it('records a stream that fails part-way with the error the upstream sent', async () => {
    const { data: stream, response } = await h.openai.chat.completions
      .create({ model: 'gpt-4o', messages, stream: true }, scenario('stream-error'))
      .withResponse();
    await expect(async () => {
      for await (const _chunk of stream) {
        // until the error event
      }
    }).rejects.toThrow(/server had an error/);
    const record = await recordOf(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      status: 'error',
      httpStatus: 200,
      error: expect.stringMatching(/server_error/),
      metadata: { gateway: { streamCompleted: false } },
    });
  });
});

describe('gateway, OpenAI responses, embeddings, completions and models', () => {
  it('records the Responses API, plain and streamed with responses.stream()', async () => {
    const { data, response } = await h.openai.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello.' }).withResponse();
    expect(data.output_text).toBe(FAKE_ANSWER);
    const plain = await recordOf(response.headers.get('x-request-id'));
    expect(plain).toMatchObject({ endpoint: 'responses', model: 'gpt-4o', ...USAGE, stopReason: 'completed', status: 'success' });
    expect(plain.costUsd).toBeCloseTo(GPT_4O_COST, 12);

    const seen = (await h.calls()).length;
    const final = await h.openai.responses.stream({ model: 'gpt-4o', input: 'Say hello.' }).finalResponse();
    expect(final.output_text).toBe(FAKE_ANSWER);
    const streamed = (await h.callAfter(seen)).envelope;
    expect(streamed).toMatchObject({ endpoint: 'responses', ...USAGE, stopReason: 'completed' });
    expect(streamed.ttftMs).toBeGreaterThan(0);
    expect((await revealed(streamed)).output).toBe(FAKE_ANSWER);
  });

  it('records embeddings with prompt-only usage and their cost', async () => {
    const { data, response } = await h.openai.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] }).withResponse();
    expect(data.data).toHaveLength(2);
    const record = await recordOf(response.headers.get('x-request-id'));
    expect(record).toMatchObject({ endpoint: 'embeddings', model: 'text-embedding-3-small', inputTokens: 16, status: 'success' });
    expect(record.costUsd).toBe(createPricing().costUsd('text-embedding-3-small', { inputTokens: 16 }));
  });

  it('records legacy completions', async () => {
    const { data, response } = await h.openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.' }).withResponse();
    expect(data.choices[0]!.text).toBe(FAKE_ANSWER);
    expect(await recordOf(response.headers.get('x-request-id'))).toMatchObject({
      endpoint: 'completions',
      model: 'gpt-3.5-turbo-instruct',
      inputTokens: 50,
      outputTokens: 12,
    });
  });

  it('lists models through the gateway, recorded as an event, not a call', async () => {
    const ids: string[] = [];
    for await (const model of h.openai.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o');
    await expect.poll(async () => (await h.ledger.search({ eventType: 'models_listed' })).records.length).toBe(1);
    expect((await h.ledger.search({ eventType: 'models_listed' })).records[0]!.envelope).toMatchObject({
      kind: 'event',
      status: 'success',
      httpStatus: 200,
      provider: 'openai',
    });
  });
});

describe('gateway, OpenAI failures of its own', () => {
  it('answers a request without a model with 400, in OpenAI form, and records it', async () => {
    const error = (await h.openai.chat.completions.create({ messages } as never).catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/must name its "model"/);
    expect(await recordOf(error.headers?.get('x-request-id'))).toMatchObject({
      status: 'error',
      httpStatus: 400,
      endpoint: 'chat.completions',
      messageCount: 2,
    });
  });

  it('refuses a model routed to a provider of the other format, naming the endpoint to use', async () => {
    const routed = await startHarness({ gateway: { models: [{ match: 'claude-*', provider: 'anthropic' }] } });
    try {
      const error = (await routed.openai.chat.completions.create({ model: 'claude-sonnet-4', messages }).catch((caught: unknown) => caught)) as InstanceType<
        typeof OpenAI.APIError
      >;
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/routed to provider "anthropic", which speaks the anthropic format; call it through \/v1\/messages/);
      expect(routed.fake.requests).toHaveLength(0);
    } finally {
      await routed.close();
    }
  });
});

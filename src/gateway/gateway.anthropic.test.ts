import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPricing } from '../providers/pricing.js';
import { FAKE_ANSWER, FAKE_TOOL } from '../providers/simulated/fake-scenarios.js';
import type { Envelope } from '../record/types.js';
import { scenario, startHarness, type Harness } from './test-support/harness.js';

// The official Anthropic SDK -> the gateway's /v1/messages -> a fake upstream speaking Anthropic.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ capture: { prompts: 'plaintext', responses: 'plaintext', allow_plaintext: true } });
});
afterAll(() => h.close());

const params = { model: 'claude-sonnet-4-6', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hello.' }] };
// Anthropic reports 30 input tokens beside 20 cache reads and 5 cache writes: 55 prompt tokens in all.
const USAGE = { inputTokens: 55, cachedTokens: 20, outputTokens: 12 };
const COST = createPricing().costUsd('claude-sonnet-4-6', { ...USAGE, cacheWriteTokens: 5 })!;

async function verified(envelope: Envelope): Promise<Envelope> {
  expect(await h.ledger.verify()).toMatchObject({ ok: true });
  expect((await h.ledger.trace(envelope.traceId)).map((r) => r.envelope.id)).toContain(envelope.id);
  return envelope;
}

describe('gateway, Anthropic messages through the official SDK', () => {
  it('relays a plain answer and records usage with cache reads and writes priced', async () => {
    const seen = (await h.calls()).length;
    const { data, response } = await h.anthropic.messages.create(params).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('request-id')).toMatch(/^req_/);

    const record = await verified((await h.callAfter(seen)).envelope);
    expect(record).toMatchObject({
      requestId: response.headers.get('x-request-id'),
      provider: 'anthropic',
      endpoint: 'messages',
      model: 'claude-sonnet-4-6',
      status: 'success',
      httpStatus: 200,
      ...USAGE,
      stopReason: 'end_turn',
      messageCount: 1,
    });
    expect(record.costUsd).toBe(COST);
    expect(COST).toBeGreaterThan(0);
    const { content } = await h.ledger.reveal(record.id, { actor: 'test', reason: 'check capture' });
    expect(content).toEqual({ system: 'Be brief.', input: 'user: Say hello.', output: FAKE_ANSWER });
  });

  it('streams through messages.stream() and records thinking as reasoning inside the output', async () => {
    const seen = (await h.calls()).length;
    const stream = h.anthropic.messages.stream({ ...params, thinking: { type: 'enabled', budget_tokens: 1024 } });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe(FAKE_ANSWER);
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text']);

    const record = await verified((await h.callAfter(seen)).envelope);
    expect(record).toMatchObject({ ...USAGE, reasoningTokens: 4, stopReason: 'end_turn', status: 'success' });
    expect(record.ttftMs).toBeGreaterThan(0);
    expect(record.costUsd).toBe(createPricing().costUsd('claude-sonnet-4-6', { ...USAGE, reasoningTokens: 4, cacheWriteTokens: 5 }));
  });

  it('records a tool call, plain and streamed', async () => {
    const tools = [{ name: 'lookup_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    let seen = (await h.calls()).length;
    const plain = await h.anthropic.messages.create({ ...params, tools }, scenario('tool'));
    expect(plain.content[1]).toMatchObject({ type: 'tool_use', input: FAKE_TOOL.arguments });
    expect((await h.callAfter(seen)).envelope).toMatchObject({ toolsProvided: 1, toolCalls: 1, stopReason: 'tool_use' });

    seen = (await h.calls()).length;
    const final = await h.anthropic.messages.stream({ ...params, tools }, scenario('tool')).finalMessage();
    expect(final.content[1]).toMatchObject({ type: 'tool_use', input: FAKE_TOOL.arguments });
    expect(await verified((await h.callAfter(seen)).envelope)).toMatchObject({ toolsProvided: 1, toolCalls: 1, stopReason: 'tool_use' });
  });

  it.each([
    ['error-400', 400, Anthropic.BadRequestError],
    ['error-529', 529, Anthropic.InternalServerError],
  ] as const)('passes upstream %s through unchanged and records it', async (name, status, ErrorClass) => {
    const seen = (await h.calls()).length;
    const before = h.fake.requests.length;
    const error = (await h.anthropic.messages.create(params, scenario(name)).catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.status).toBe(status);
    expect(JSON.stringify(error.error)).toBe(h.fake.requests[before]!.responseBody);
    expect(await verified((await h.callAfter(seen)).envelope)).toMatchObject({
      status: 'error',
      httpStatus: status,
      error: expect.stringMatching(new RegExp(`HTTP ${status}`)),
    });
  });

  it('records an error event mid-stream', async () => {
    const seen = (await h.calls()).length;
    const stream = await h.anthropic.messages.create({ ...params, stream: true }, scenario('stream-error'));
    await expect(async () => {
      for await (const _event of stream) {
        // until the error event
      }
    }).rejects.toThrow(/Overloaded/);
    expect((await h.callAfter(seen)).envelope).toMatchObject({ status: 'error', error: expect.stringMatching(/overloaded_error/) });
  });

  it('answers its own errors in Anthropic form', async () => {
    const seen = (await h.calls()).length;
    const error = (await h.anthropic.messages
      .create(params, { headers: { 'x-llm-ledger-metadata': 'not json' } })
      .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringMatching(/x-llm-ledger-metadata must be a JSON object/) },
    });
    expect((await h.callAfter(seen)).envelope).toMatchObject({ status: 'error', httpStatus: 400, endpoint: 'messages' });
  });

  it('lists models in Anthropic form, relayed to the Anthropic provider', async () => {
    const page = await h.anthropic.models.list();
    expect(page.data.map((model) => model.id)).toContain('claude-sonnet-4-6');
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ANSWER, FAKE_ANTHROPIC_USAGE, FAKE_TOOL } from '../providers/simulated/fake-scenarios.js';
import type { Envelope } from '../record/types.js';
import { CLIENT_KEY, scenario, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

// The official Anthropic SDK, audited, pointed at a fake upstream speaking Anthropic's wire
// format: plain, streamed, the MessageStream helper, tools, thinking, errors and aborts.

let h: SdkHarness;
beforeAll(async () => {
  h = await startSdkHarness();
});
afterAll(() => h.close());

const request = { model: 'claude-sonnet-4-6', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hello.' }] };
const { input, cacheRead, cacheWrite, output, thinking } = FAKE_ANTHROPIC_USAGE;
// Anthropic's input_tokens leaves out cache reads and writes; the record counts every prompt token.
const USAGE = { inputTokens: input + cacheRead + cacheWrite, cachedTokens: cacheRead, outputTokens: output };
// claude-sonnet-4-6: $3 per million input, $3.75 cache write, $0.30 cache read, $15 output.
const SONNET_COST = (input * 3 + cacheWrite * 3.75 + cacheRead * 0.3 + output * 15) / 1e6;

function expectTimings(record: Envelope): void {
  expect(record.ttftMs).toBeGreaterThan(0);
  expect(record.ttftMs!).toBeLessThanOrEqual(record.latencyMs!);
}

describe('auditAnthropic: plain calls', () => {
  it('returns a client of the same class and records model, usage with cache, cost, identity and texts', async () => {
    const client = h.anthropic({ user: 'carol', conversation: 'c-7', traceId: 'trace-anthropic-1' });
    expect(client).toBeInstanceOf(Anthropic);
    const { data, response } = await client.messages.create(request).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      component: 'sdk',
      provider: 'anthropic',
      endpoint: 'messages',
      model: 'claude-sonnet-4-6',
      user: 'carol',
      conversation: 'c-7',
      traceId: 'trace-anthropic-1',
      status: 'success',
      httpStatus: 200,
      ...USAGE,
      stopReason: 'end_turn',
      messageCount: 1,
      apiKeyPrefix: CLIENT_KEY.slice(0, 8),
      metadata: { sdk: { upstreamRequestId: response.headers.get('request-id') } },
    });
    expect(record.costUsd).toBeCloseTo(SONNET_COST, 12);
    expect(record.ttftMs).toBeUndefined();
    const trace = await h.ledger.trace('trace-anthropic-1');
    expect(trace.map((r) => r.envelope.id)).toEqual([record.id]);
    const texts = await h.revealed(record);
    expect(texts).toMatchObject({ system: 'Be brief.', output: FAKE_ANSWER });
    expect(texts.input).toContain('Say hello.');
  });

  it('records tool use and thinking tokens', async () => {
    const client = h.anthropic();
    const tools = [
      { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } },
    ];
    const message = await client.messages.create({ ...request, tools, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } }, scenario('tool'));
    expect(message.content.find((block) => block.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: FAKE_TOOL.arguments });
    expect(await h.lastCall(client)).toMatchObject({ status: 'success', toolsProvided: 1, toolCalls: 1, stopReason: 'tool_use', reasoningTokens: thinking });
  });

  it('records beta messages, which use the same wire format', async () => {
    const client = h.anthropic();
    const message = await client.beta.messages.create(request);
    expect(message.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });
    expect(await h.lastCall(client)).toMatchObject({ endpoint: 'messages', status: 'success', ...USAGE });
  });

  it('records nothing for token counting, which is not a model call', async () => {
    const client = h.anthropic();
    const before = await h.callCount(client);
    await client.messages.countTokens({ model: request.model, messages: request.messages }).catch(() => undefined);
    expect(await h.callCount(client)).toBe(before);
  });
});

describe('auditAnthropic: streams', () => {
  it('passes every event of stream: true through and records usage, cost and time to first token', async () => {
    const client = h.anthropic();
    const stream = await client.messages.create({ ...request, stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe(FAKE_ANSWER);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ endpoint: 'messages', status: 'success', ...USAGE, stopReason: 'end_turn' });
    expect(record.costUsd).toBeCloseTo(SONNET_COST, 12);
    expectTimings(record);
    expect((await h.revealed(record)).output).toBe(FAKE_ANSWER);
  });

  it("keeps messages.stream() working as documented: on('text') and finalMessage(), one record", async () => {
    const client = h.anthropic();
    const before = await h.callCount(client);
    const texts: string[] = [];
    const stream = client.messages.stream(request).on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    expect(texts.join('')).toBe(FAKE_ANSWER);
    expect(message.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });
    expect(message.usage.output_tokens).toBe(output);

    expect(await h.callCount(client)).toBe(before + 1);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ endpoint: 'messages', status: 'success', ...USAGE });
    expectTimings(record);
  });

  it('records a streamed tool call with its thinking', async () => {
    const client = h.anthropic();
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const } }];
    const message = await client.messages
      .stream({ ...request, tools, max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 } }, scenario('tool'))
      .finalMessage();
    expect(message.content.find((block) => block.type === 'tool_use')).toMatchObject({ input: FAKE_TOOL.arguments });
    expect(await h.lastCall(client)).toMatchObject({ toolsProvided: 1, toolCalls: 1, stopReason: 'tool_use', reasoningTokens: thinking });
  });

  it('records an overloaded error event inside a stream, re-thrown by the helper', async () => {
    const client = h.anthropic();
    const error = await client.messages
      .stream(request, scenario('stream-error'))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'error', httpStatus: 200 });
    expect(record.error).toContain('overloaded_error');
  });

  it('records a helper stream the caller aborts part-way as aborted', async () => {
    const client = h.anthropic();
    // A slow stream: the caller has its first text long before the end.
    const stream = client.messages.stream(request, { headers: { 'x-fake-chunk-delay-ms': '40' } });
    stream.on('text', () => stream.abort());
    await expect(stream.done()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'aborted', endpoint: 'messages', metadata: { sdk: { streamCompleted: false } } });
    expectTimings(record);
  });
});

describe('auditAnthropic: upstream errors', () => {
  it.each([
    [400, Anthropic.BadRequestError, 'invalid_request_error'],
    [529, Anthropic.APIError, 'overloaded_error'],
  ])('re-throws an upstream %i exactly as the SDK throws it, and records it', async (status, errorClass, type) => {
    const original = new Anthropic({ apiKey: CLIENT_KEY, baseURL: h.fake.url, maxRetries: 0 });
    const client = h.anthropic();
    const plain = (await original.messages.create(request, scenario(`error-${status}`)).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    const wrapped = (await client.messages.create(request, scenario(`error-${status}`)).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(wrapped).toBeInstanceOf(errorClass);
    expect(wrapped.constructor).toBe(plain.constructor);
    // Each answer carries its own request id; everything else is the same.
    const withoutIds = (error: InstanceType<typeof Anthropic.APIError>) => ({
      status: error.status,
      error: { ...(error.error as object), request_id: '' },
      message: error.message.replace(/req_\w+/, ''),
    });
    expect(withoutIds(wrapped)).toEqual(withoutIds(plain));

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'error', httpStatus: status, model: 'claude-sonnet-4-6' });
    expect(record.error).toContain(`HTTP ${status} ${type}`);
  });
});

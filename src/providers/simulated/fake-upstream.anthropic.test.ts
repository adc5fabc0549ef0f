import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicMessagesAdapter } from '../anthropic-messages.js';
import { observeStream } from '../stream-observer.js';
import type { ResponseFacts } from '../types.js';
import { FAKE_ANSWER, FAKE_THINKING, FAKE_TOOL } from './fake-scenarios.js';
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';

// The official SDK as the client: if the fake drifts from the real wire format, these fail.
const KEY = 'sk-ant-test-fake-upstream-0123456789';
let fake: FakeUpstream;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKeys: [KEY] });
  client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

const lastRequest = (): RecordedRequest => fake.requests.at(-1)!;
const scenario = (name: string) => ({ headers: { 'x-fake-scenario': name } });
const params = { model: 'claude-sonnet-4-6', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hello.' }] };
// Anthropic reports input 30 beside 20 cache reads and 5 cache writes: 55 prompt tokens in all.
const USAGE = { inputTokens: 55, cachedTokens: 20, cacheWriteTokens: 5, outputTokens: 12 };

function observe(sent: string): ResponseFacts {
  const bytes = Buffer.from(sent, 'utf8');
  const observer = observeStream(anthropicMessagesAdapter);
  for (let at = 0, size = 2; at < bytes.length; at += size, size = ((size * 5 + 1) % 17) + 1) observer.push(bytes.subarray(at, at + size));
  return observer.end();
}

describe('fake upstream, Anthropic messages, through the official SDK', () => {
  it('answers a plain request with the headers Anthropic requires, and the adapter reads both sides', async () => {
    const message = await client.messages.create(params);
    expect(message.content[0]).toMatchObject({ type: 'text', text: FAKE_ANSWER });
    const sent = lastRequest();
    // Depending on version and options the SDK sends the key as x-api-key or as a bearer token.
    expect(sent.headers['x-api-key'] ?? sent.headers.authorization?.replace(/^Bearer /, '')).toBe(KEY);
    expect(sent.headers['anthropic-version']).toBeDefined();
    expect(anthropicMessagesAdapter.describeRequest(sent.json)).toEqual({
      model: 'claude-sonnet-4-6',
      stream: false,
      messageCount: 1,
      texts: { system: 'Be brief.', input: 'user: Say hello.' },
    });
    expect(anthropicMessagesAdapter.describeResponse(sent.responseBody, 200)).toEqual({
      model: 'claude-sonnet-4-6',
      usage: USAGE,
      stopReason: 'end_turn',
      toolCalls: 0,
      output: FAKE_ANSWER,
    });
  });

  it('streams raw events, and the stream gives the same facts as the plain answer', async () => {
    const stream = await client.messages.create({ ...params, stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe(FAKE_ANSWER);
    const facts = observe(lastRequest().responseBody);
    expect(facts).toMatchObject({
      model: 'claude-sonnet-4-6',
      usage: USAGE,
      stopReason: 'end_turn',
      toolCalls: 0,
      output: FAKE_ANSWER,
      stream: { completed: true, malformedEvents: 0 },
    });
    expect(facts.stream?.ttftMs).toBeGreaterThanOrEqual(0);
  });

  it('thinks when asked, via messages.stream() and finalMessage(), counting thinking inside output', async () => {
    const stream = client.messages.stream({ ...params, thinking: { type: 'enabled', budget_tokens: 1024 } });
    let thinking = '';
    stream.on('thinking', (delta) => (thinking += delta));
    const final = await stream.finalMessage();
    expect(thinking).toBe(FAKE_THINKING);
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(final.usage.output_tokens_details?.thinking_tokens).toBe(4);
    // Thinking is reasoning, not answer text: the output digested is the answer alone.
    expect(observe(lastRequest().responseBody)).toMatchObject({ usage: { ...USAGE, reasoningTokens: 4 }, output: FAKE_ANSWER });
  });

  it('makes a tool call, plain and streamed as input_json_delta fragments, with the same output text both ways', async () => {
    const tools = [{ name: 'lookup_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const plain = await client.messages.create({ ...params, tools }, scenario('tool'));
    expect(plain.stop_reason).toBe('tool_use');
    expect(plain.content[1]).toMatchObject({ type: 'tool_use', name: 'lookup_weather', input: FAKE_TOOL.arguments });
    expect(anthropicMessagesAdapter.describeRequest(lastRequest().json).toolsProvided).toBe(1);
    const plainFacts = anthropicMessagesAdapter.describeResponse(lastRequest().responseBody, 200);
    expect(plainFacts).toMatchObject({
      stopReason: 'tool_use',
      toolCalls: 1,
      output: `I'll check the weather.\n[tool lookup_weather] ${JSON.stringify(FAKE_TOOL.arguments)}`,
    });

    const final = await client.messages.stream({ ...params, tools }, scenario('tool')).finalMessage();
    expect(final.content[1]).toMatchObject({ type: 'tool_use', input: FAKE_TOOL.arguments });
    expect(observe(lastRequest().responseBody)).toMatchObject({ stopReason: 'tool_use', toolCalls: 1, output: plainFacts.output });
  });

  it('sends an error event mid-stream that the SDK raises, and the adapter records', async () => {
    const stream = await client.messages.create({ ...params, stream: true }, scenario('stream-error'));
    await expect(async () => {
      for await (const _event of stream) {
        // consume until the error event
      }
    }).rejects.toThrow(/Overloaded/);
    const facts = observe(lastRequest().responseBody);
    expect(facts.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(facts.stream?.completed).toBe(false);
  });

  it('accepts a bearer token (authToken) instead of x-api-key', async () => {
    const bearer = new Anthropic({ apiKey: null, authToken: KEY, baseURL: fake.url, maxRetries: 0 });
    await bearer.messages.create(params);
    expect(lastRequest().headers.authorization).toBe(`Bearer ${KEY}`);
    expect(lastRequest().headers['x-api-key']).toBeUndefined();
  });

  it('lists models in Anthropic’s shape', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toContain('claude-sonnet-4-6');
  });
});

describe('fake upstream, Anthropic errors, as the SDK types them', () => {
  it.each([
    ['error-400', Anthropic.BadRequestError, 400, 'invalid_request_error'],
    ['error-429', Anthropic.RateLimitError, 429, 'rate_limit_error'],
    ['error-500', Anthropic.InternalServerError, 500, 'api_error'],
    ['error-529', Anthropic.InternalServerError, 529, 'overloaded_error'],
  ] as const)('%s surfaces as the SDK error for HTTP %s', async (name, ErrorClass, status, type) => {
    const error = await client.messages.create(params, scenario(name)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
    const sent = lastRequest();
    expect(anthropicMessagesAdapter.describeResponse(sent.responseBody, sent.status!).error).toMatchObject({ status, type });
  });

  it('refuses a wrong key with 401 AuthenticationError', async () => {
    const stranger = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 });
    await expect(stranger.messages.create(params)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('refuses a request without anthropic-version, as the real API does', async () => {
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });
});

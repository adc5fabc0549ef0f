import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAIChatAdapter } from '../openai-chat.js';
import { openAICompletionsAdapter } from '../openai-completions.js';
import { openAIEmbeddingsAdapter } from '../openai-embeddings.js';
import { openAIResponsesAdapter } from '../openai-responses.js';
import { observeStream } from '../stream-observer.js';
import type { ProviderAdapter, ResponseFacts } from '../types.js';
import { FAKE_ANSWER, FAKE_TOOL } from './fake-scenarios.js';
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';

// The official SDK as the client: if the fake drifts from the real wire format, these fail.
const KEY = 'sk-test-fake-upstream-0123456789abcdef';
let fake: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKeys: [KEY] });
  client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

const lastRequest = (): RecordedRequest => fake.requests.at(-1)!;
const scenario = (name: string) => ({ headers: { 'x-fake-scenario': name } });
const USAGE = { inputTokens: 50, cachedTokens: 20, outputTokens: 12, reasoningTokens: 4 };
const TOOL_OUTPUT = `[tool ${FAKE_TOOL.name}] ${JSON.stringify(FAKE_TOOL.arguments)}`;

/** Runs the adapter's stream observer over what the fake sent, cut into uneven byte pieces. */
function observe(adapter: ProviderAdapter, sent: string): ResponseFacts {
  const bytes = Buffer.from(sent, 'utf8');
  const observer = observeStream(adapter);
  for (let at = 0, size = 1; at < bytes.length; at += size, size = ((size * 7 + 3) % 23) + 1) observer.push(bytes.subarray(at, at + size));
  return observer.end();
}

describe('fake upstream, OpenAI chat completions, through the official SDK', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Say hello.' },
  ];

  it('answers a plain request, and the adapter reads request and answer', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages });
    expect(completion.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(4);

    const sent = lastRequest();
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(openAIChatAdapter.describeRequest(sent.json)).toEqual({
      model: 'gpt-4o',
      stream: false,
      messageCount: 2,
      texts: { system: 'Be brief.', input: 'user: Say hello.' },
    });
    expect(openAIChatAdapter.describeResponse(sent.responseBody, sent.status!)).toEqual({
      model: 'gpt-4o',
      usage: USAGE,
      stopReason: 'stop',
      toolCalls: 0,
      output: FAKE_ANSWER,
    });
  });

  it('streams chunks with usage last, and the stream gives the same facts as the plain answer', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(FAKE_ANSWER);
    expect(usage?.prompt_tokens).toBe(50);

    const facts = observe(openAIChatAdapter, lastRequest().responseBody);
    expect(facts).toMatchObject({
      model: 'gpt-4o',
      usage: USAGE,
      stopReason: 'stop',
      toolCalls: 0,
      output: FAKE_ANSWER,
      stream: { completed: true, malformedEvents: 0 },
    });
    expect(facts.stream?.ttftMs).toBeGreaterThanOrEqual(0);
  });

  it("works with the SDK's stream helper and finalChatCompletion()", async () => {
    const runner = client.chat.completions.stream({ model: 'gpt-4o', messages, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(deltas.join('')).toBe(FAKE_ANSWER);
    expect(final.usage?.total_tokens).toBe(62);
  });

  it('makes a tool call, plain and streamed, with the same output text both ways', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'lookup_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages, tools }, scenario('tool'));
    const call = plain.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('lookup_weather');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(FAKE_TOOL.arguments);
    const plainFacts = openAIChatAdapter.describeResponse(lastRequest().responseBody, 200);
    expect(openAIChatAdapter.describeRequest(lastRequest().json).toolsProvided).toBe(1);
    expect(plainFacts).toMatchObject({ stopReason: 'tool_calls', toolCalls: 1, output: `[tool lookup_weather] ${JSON.stringify(FAKE_TOOL.arguments)}` });

    const final = await client.chat.completions.stream({ model: 'gpt-4o', messages, tools }, scenario('tool')).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const streamed = observe(openAIChatAdapter, lastRequest().responseBody);
    expect(streamed).toMatchObject({ stopReason: 'tool_calls', toolCalls: 1, output: plainFacts.output });
  });

  it('fails mid-stream with an error the SDK raises, and the adapter records it', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('stream-error'));
    await expect(async () => {
      for await (const _chunk of stream) {
        // consume until the error event
      }
    }).rejects.toThrow(/server had an error/);
    const facts = observe(openAIChatAdapter, lastRequest().responseBody);
    expect(facts.error).toEqual({ type: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' });
    expect(facts.stream?.completed).toBe(false);
  });
});

describe('fake upstream, OpenAI errors, as the SDK types them', () => {
  it.each([
    ['error-400', OpenAI.BadRequestError, 400, 'invalid_request_error'],
    ['error-429', OpenAI.RateLimitError, 429, 'requests'],
    ['error-500', OpenAI.InternalServerError, 500, 'server_error'],
  ] as const)('%s surfaces as %s and is read by the adapter', async (name, ErrorClass, status, type) => {
    const error = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, scenario(name))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    const sent = lastRequest();
    expect(openAIChatAdapter.describeResponse(sent.responseBody, sent.status!).error).toMatchObject({ status, type });
  });

  it('refuses a wrong key with 401 AuthenticationError', async () => {
    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('makes a slow answer time out on the client', async () => {
    const request = client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      { ...scenario('slow'), timeout: 100, headers: { 'x-fake-scenario': 'slow', 'x-fake-response-delay-ms': '2000' } },
    );
    await expect(request).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('stalls a stream after its first events; the client can abort and the fake sees it leave', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { ...scenario('stall'), signal: controller.signal },
    );
    const seen: string[] = [];
    // The SDK ends the iteration quietly when its own signal aborts it.
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content ?? '');
      if (seen.length === 2) setTimeout(() => controller.abort(), 50);
    }
    expect(seen).toHaveLength(2);
    await expect.poll(() => lastRequest().clientClosed).toBe(true);
    expect(lastRequest().completed).toBe(false);
    expect(observe(openAIChatAdapter, lastRequest().responseBody)).toMatchObject({ output: 'Bonjou', stream: { completed: false } });
  });
});

describe('fake upstream, OpenAI responses, embeddings, completions and models', () => {
  it('answers the Responses API plain and streamed, via responses.stream() and finalResponse()', async () => {
    const plain = await client.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello.' });
    expect(plain.output_text).toBe(FAKE_ANSWER);
    expect(openAIResponsesAdapter.describeRequest(lastRequest().json)).toEqual({
      model: 'gpt-4o',
      stream: false,
      messageCount: 1,
      texts: { system: 'Be brief.', input: 'user: Say hello.' },
    });
    const plainFacts = openAIResponsesAdapter.describeResponse(lastRequest().responseBody, 200);
    expect(plainFacts).toEqual({ model: 'gpt-4o', usage: USAGE, stopReason: 'completed', toolCalls: 0, output: FAKE_ANSWER });

    const deltas: string[] = [];
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'Say hello.' });
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(FAKE_ANSWER);
    expect(deltas.join('')).toBe(FAKE_ANSWER);
    expect(observe(openAIResponsesAdapter, lastRequest().responseBody)).toMatchObject({ ...plainFacts, stream: { completed: true, malformedEvents: 0 } });
  });

  it('makes a Responses API function call, plain and streamed', async () => {
    const tools = [{ type: 'function' as const, name: FAKE_TOOL.name, parameters: { type: 'object', properties: {} }, strict: false }];
    const plain = await client.responses.create({ model: 'gpt-4o', input: 'Weather?', tools }, scenario('tool'));
    expect(plain.output[0]).toMatchObject({ type: 'function_call', name: FAKE_TOOL.name });
    expect(openAIResponsesAdapter.describeResponse(lastRequest().responseBody, 200)).toMatchObject({ toolCalls: 1, output: TOOL_OUTPUT });

    const final = await client.responses.stream({ model: 'gpt-4o', input: 'Weather?', tools }, scenario('tool')).finalResponse();
    expect(final.output[0]).toMatchObject({ type: 'function_call', arguments: JSON.stringify(FAKE_TOOL.arguments) });
    expect(observe(openAIResponsesAdapter, lastRequest().responseBody)).toMatchObject({ toolCalls: 1, output: TOOL_OUTPUT });
  });

  it('returns embeddings the SDK decodes from base64, with prompt-only usage', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second text'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]!.embedding).toHaveLength(8);
    expect(result.data[0]!.embedding.every((value) => typeof value === 'number' && Number.isFinite(value))).toBe(true);
    const sent = lastRequest();
    expect(openAIEmbeddingsAdapter.describeRequest(sent.json)).toEqual({
      model: 'text-embedding-3-small',
      stream: false,
      texts: { input: 'first text\nsecond text' },
    });
    expect(openAIEmbeddingsAdapter.describeResponse(sent.responseBody, 200)).toEqual({ model: 'text-embedding-3-small', usage: { inputTokens: 16 } });
  });

  it('answers legacy completions, plain and streamed', async () => {
    const plain = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.' });
    expect(plain.choices[0]!.text).toBe(FAKE_ANSWER);
    expect(openAICompletionsAdapter.describeResponse(lastRequest().responseBody, 200)).toMatchObject({
      stopReason: 'stop',
      output: FAKE_ANSWER,
      usage: { inputTokens: 50, outputTokens: 12 },
    });

    const stream = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hello.',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(FAKE_ANSWER);
    expect(observe(openAICompletionsAdapter, lastRequest().responseBody)).toMatchObject({
      stopReason: 'stop',
      output: FAKE_ANSWER,
      usage: { inputTokens: 50, outputTokens: 12 },
      stream: { completed: true },
    });
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o');
  });
});

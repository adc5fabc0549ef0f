import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ANSWER, FAKE_OPENAI_USAGE, FAKE_TOOL } from '../providers/simulated/fake-scenarios.js';
import type { Envelope } from '../record/types.js';
import { scenario, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

// Streams through the audited OpenAI SDK: async iteration, the `stream()` helpers, tool calls,
// errors inside a stream and a caller stopping one part-way. One record per request, always.

let h: SdkHarness;
beforeAll(async () => {
  h = await startSdkHarness();
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
const GPT_4O_COST = ((50 - 20) * 2.5 + 20 * 1.25 + 12 * 10) / 1e6;

/** A streamed record has a time to first token, within its latency. */
function expectTimings(record: Envelope): void {
  expect(record.ttftMs).toBeGreaterThan(0);
  expect(record.ttftMs!).toBeLessThanOrEqual(record.latencyMs!);
}

describe('auditOpenAI: streams', () => {
  it('passes every chunk of a streamed chat completion through and records its usage, cost and time to first token', async () => {
    const client = h.openai();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(FAKE_ANSWER);
    expect(usage).toMatchObject({ prompt_tokens: FAKE_OPENAI_USAGE.prompt });

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      endpoint: 'chat.completions',
      model: 'gpt-4o',
      status: 'success',
      httpStatus: 200,
      ...USAGE,
      stopReason: 'stop',
      messageCount: 2,
    });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    expectTimings(record);
    expect((await h.revealed(record)).output).toBe(FAKE_ANSWER);
  });

  it('keeps chat.completions.stream() working as documented: content events and finalChatCompletion()', async () => {
    const client = h.openai();
    const before = await h.callCount(client);
    const stream = client.chat.completions.stream({ model: 'gpt-4o', messages, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(deltas.join('')).toBe(FAKE_ANSWER);
    expect(final.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(final.usage?.prompt_tokens).toBe(FAKE_OPENAI_USAGE.prompt);

    expect(await h.callCount(client)).toBe(before + 1);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ endpoint: 'chat.completions', status: 'success', ...USAGE, stopReason: 'stop' });
    expectTimings(record);
  });

  it('records the tool call of a streamed completion, while the helper assembles its arguments', async () => {
    const client = h.openai();
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const stream = client.chat.completions.stream({ model: 'gpt-4o', messages, tools }, scenario('tool'));
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(FAKE_TOOL.arguments);
    expect(await h.lastCall(client)).toMatchObject({ status: 'success', toolsProvided: 1, toolCalls: 1, stopReason: 'tool_calls' });
  });

  it('keeps responses.stream() working as documented: typed events and finalResponse()', async () => {
    const client = h.openai();
    const stream = client.responses.stream({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello.' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe(FAKE_ANSWER);
    expect(final.output_text).toBe(FAKE_ANSWER);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ endpoint: 'responses', model: 'gpt-4o', status: 'success', ...USAGE });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    expectTimings(record);
  });

  it('streams a legacy completion', async () => {
    const client = h.openai();
    const stream = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hello.',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(FAKE_ANSWER);
    expect(await h.lastCall(client)).toMatchObject({ endpoint: 'completions', status: 'success', outputTokens: FAKE_OPENAI_USAGE.completion });
  });

  it('re-throws an error event inside a stream as the SDK does, and records it', async () => {
    const client = h.openai();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('stream-error'));
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(text.length).toBeGreaterThan(0);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'error', httpStatus: 200 });
    expect(record.error).toContain('server_error');
  });

  it('records a stream the caller aborts part-way as aborted, with what arrived', async () => {
    const client = h.openai();
    // `stall` sends the first chunks, then nothing: only the caller can end this stream.
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('stall'));
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.choices[0]?.delta.content) stream.controller.abort();
    }
    expect(chunks).toBeGreaterThan(0);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'aborted', model: 'gpt-4o', httpStatus: 200, metadata: { sdk: { streamCompleted: false } } });
    expect(record.error).toBeUndefined();
    expectTimings(record);
  });

  it('records a stream left with `break` as aborted', async () => {
    const client = h.openai();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('stall'));
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
    expect(await h.lastCall(client)).toMatchObject({ status: 'aborted', metadata: { sdk: { streamCompleted: false } } });
  });

  it('records a helper stream the caller aborts as aborted', async () => {
    const client = h.openai();
    const stream = client.chat.completions.stream({ model: 'gpt-4o', messages }, scenario('stall'));
    stream.on('content', () => stream.abort());
    await expect(stream.done()).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await h.lastCall(client)).toMatchObject({ status: 'aborted', endpoint: 'chat.completions' });
  });
});

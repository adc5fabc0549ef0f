import { describe, expect, it } from 'vitest';
import { openAIResponsesAdapter as adapter } from './openai-responses.js';
import { replay, sseText, type WireEvents } from './test-support/replay.js';

// Samples follow the Responses API wire format: typed output items and typed stream events.

const usage = {
  input_tokens: 300,
  input_tokens_details: { cached_tokens: 256 },
  output_tokens: 120,
  output_tokens_details: { reasoning_tokens: 64 },
  total_tokens: 420,
};
const message = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'It is 18C.', annotations: [] }],
};
const call = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
const reasoning = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking about weather.' }] };
const response = (status: string, output: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'resp_1',
  object: 'response',
  status,
  model: 'o3-2025-04-16',
  output,
  usage: status === 'in_progress' ? null : usage,
  error: null,
  incomplete_details: null,
  ...extra,
});

describe('OpenAI Responses adapter: requests', () => {
  it('reads a string input as one user message, with instructions as the system prompt', () => {
    expect(adapter.describeRequest({ model: 'o3', instructions: 'Be terse.', input: 'Weather?', stream: true })).toEqual({
      model: 'o3',
      stream: true,
      messageCount: 1,
      texts: { system: 'Be terse.', input: 'user: Weather?' },
    });
  });

  it('reads item lists: messages, developer instructions, earlier function calls and their outputs', () => {
    const body = {
      model: 'gpt-4.1',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18C' },
      ],
      tools: [{ type: 'function', name: 'get_weather', parameters: {} }, { type: 'web_search' }],
    };
    expect(adapter.describeRequest(body)).toEqual({
      model: 'gpt-4.1',
      stream: false,
      messageCount: 4,
      toolsProvided: 2,
      texts: { system: 'Use metric units.', input: 'user: Weather in Paris?\nassistant: [tool get_weather] {"city":"Paris"}\ntool: 18C' },
    });
  });
});

describe('OpenAI Responses adapter: plain responses', () => {
  it('maps usage (cached inside input, reasoning inside output) and leaves reasoning items out of the text', () => {
    expect(adapter.describeResponse(response('completed', [reasoning, message]), 200)).toEqual({
      model: 'o3-2025-04-16',
      usage: { inputTokens: 300, cachedTokens: 256, outputTokens: 120, reasoningTokens: 64 },
      stopReason: 'completed',
      toolCalls: 0,
      output: 'It is 18C.',
    });
  });

  it('counts client function calls and hosted tool calls alike, digesting only function arguments', () => {
    const webSearch = { id: 'ws_1', type: 'web_search_call', status: 'completed' };
    expect(adapter.describeResponse(response('completed', [webSearch, call]), 200)).toMatchObject({
      toolCalls: 2,
      output: '[tool get_weather] {"city":"Paris"}',
    });
  });

  it('gives the reason of an incomplete response as its stop reason', () => {
    const body = response('incomplete', [message], { incomplete_details: { reason: 'max_output_tokens' } });
    expect(adapter.describeResponse(body, 200).stopReason).toBe('max_output_tokens');
  });

  it('reads a failed response and an HTTP error', () => {
    const failed = response('failed', [], { error: { code: 'server_error', message: 'Something went wrong' } });
    expect(adapter.describeResponse(failed, 200).error).toEqual({ code: 'server_error', message: 'Something went wrong' });
    const http = { error: { message: "Invalid value: 'x'.", type: 'invalid_request_error', param: 'input', code: 'invalid_value' } };
    expect(adapter.describeResponse(http, 400).error).toEqual({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: "Invalid value: 'x'.",
    });
  });
});

const events = (list: Array<Record<string, unknown>>): WireEvents =>
  list.map((data, sequence_number) => ({ event: data.type as string, data: { ...data, sequence_number } }));

const textEvents = events([
  { type: 'response.created', response: response('in_progress', []) },
  { type: 'response.in_progress', response: response('in_progress', []) },
  { type: 'response.output_item.added', output_index: 0, item: { ...reasoning, summary: [] } },
  { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'Thinking' },
  { type: 'response.output_item.done', output_index: 0, item: reasoning },
  { type: 'response.output_item.added', output_index: 1, item: { ...message, status: 'in_progress', content: [] } },
  { type: 'response.content_part.added', item_id: 'msg_1', output_index: 1, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } },
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'It is ' },
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: '18C.' },
  { type: 'response.output_text.done', item_id: 'msg_1', output_index: 1, content_index: 0, text: 'It is 18C.' },
  { type: 'response.output_item.done', output_index: 1, item: message },
  { type: 'response.completed', response: response('completed', [reasoning, message]) },
]);

describe('OpenAI Responses adapter: streams', () => {
  it('gives the same facts as the plain response once response.completed arrives', () => {
    expect(replay(adapter, sseText(textEvents))).toEqual({
      ...adapter.describeResponse(response('completed', [reasoning, message]), 200),
      stream: { completed: true, malformedEvents: 0, ttftMs: expect.any(Number) },
    });
  });

  it('keeps the text built from deltas when the stream is cut before completion', () => {
    const facts = replay(adapter, sseText(textEvents.slice(0, 9)));
    expect(facts).toMatchObject({ output: 'It is 18C.', usage: {}, stopReason: 'in_progress', stream: { completed: false } });
  });

  it('builds function call arguments from their deltas', () => {
    const cut = events([
      { type: 'response.created', response: response('in_progress', []) },
      { type: 'response.output_item.added', output_index: 0, item: { ...call, status: 'in_progress', arguments: '' } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"city":' },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '"Paris"}' },
    ]);
    expect(replay(adapter, sseText(cut))).toMatchObject({ toolCalls: 1, output: '[tool get_weather] {"city":"Paris"}' });
  });

  it('counts the first reasoning delta as the first token', () => {
    let now = 0;
    const accumulator = adapter.streamAccumulator({ now: () => now, startedAt: 0 });
    for (const [index, event] of textEvents.entries()) {
      now = index * 10;
      accumulator.push(event);
    }
    expect(accumulator.result().stream?.ttftMs).toBe(30);
  });

  it('records an error event and a failed response', () => {
    const failing = events([
      { type: 'response.created', response: response('in_progress', []) },
      { type: 'error', code: 'server_error', message: 'The server had an error', param: null },
    ]);
    expect(replay(adapter, sseText(failing)).error).toEqual({ code: 'server_error', message: 'The server had an error' });
    const failed = events([{ type: 'response.failed', response: response('failed', [], { error: { code: 'rate_limit_exceeded', message: 'Slow down' } }) }]);
    expect(replay(adapter, sseText(failed))).toMatchObject({
      error: { code: 'rate_limit_exceeded', message: 'Slow down' },
      stopReason: 'failed',
      stream: { completed: true },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { anthropicMessagesAdapter as adapter, anthropicUsage } from './anthropic-messages.js';
import { replay, sseText, type WireEvents } from './test-support/replay.js';

// Samples follow Anthropic's Messages API wire format (API reference, streaming guide).

describe('Anthropic messages adapter: requests', () => {
  it('reads system blocks, alternating messages with tool use and results, and tools', () => {
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] }] },
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      stream: true,
    };
    expect(adapter.describeRequest(body)).toEqual({
      model: 'claude-sonnet-4-6',
      stream: true,
      messageCount: 3,
      toolsProvided: 1,
      texts: { system: 'You are terse.', input: 'user: Weather in Paris?\nassistant: Checking.\n[tool get_weather] {"city":"Paris"}\nuser: 18C' },
    });
  });
});

describe('Anthropic messages adapter: requests nested beyond reason', () => {
  it('reads a body whose tool results nest thousands deep without exhausting the stack', () => {
    const depth = 20_000;
    const raw = `{"messages":[{"role":"user","content":${'[{"type":"tool_result","content":'.repeat(depth)}"deep"${'}]'.repeat(depth)}}]}`;
    expect(adapter.describeRequest(raw)).toEqual({ stream: false, messageCount: 1, texts: {} });
  });
});

describe('Anthropic messages adapter: usage', () => {
  it('adds cache reads and writes back into input tokens, since input_tokens excludes them', () => {
    expect(anthropicUsage({ input_tokens: 21, cache_creation_input_tokens: 188, cache_read_input_tokens: 1500, output_tokens: 393 })).toEqual({
      inputTokens: 1709,
      cachedTokens: 1500,
      cacheWriteTokens: 188,
      outputTokens: 393,
    });
  });

  it('takes thinking tokens from output_tokens_details, as a part of output tokens', () => {
    expect(anthropicUsage({ input_tokens: 10, output_tokens: 900, output_tokens_details: { thinking_tokens: 700 } })).toEqual({
      inputTokens: 10,
      outputTokens: 900,
      reasoningTokens: 700,
    });
  });

  it('leaves counts it was not given undefined, and null cache counts out', () => {
    expect(anthropicUsage({ input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: null, cache_read_input_tokens: null })).toEqual({
      inputTokens: 10,
      outputTokens: 3,
    });
    expect(anthropicUsage(undefined)).toEqual({});
  });
});

const message = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-6',
  content: [
    { type: 'thinking', thinking: 'The user wants weather.', signature: 'sig' },
    { type: 'text', text: 'Checking.' },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', days: 2 } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000, output_tokens: 95, output_tokens_details: { thinking_tokens: 30 } },
};

describe('Anthropic messages adapter: plain responses', () => {
  it('reads text and tool use as output, thinking as reasoning only', () => {
    expect(adapter.describeResponse(message, 200)).toEqual({
      model: 'claude-sonnet-4-6',
      usage: { inputTokens: 1040, cachedTokens: 1000, cacheWriteTokens: 0, outputTokens: 95, reasoningTokens: 30 },
      stopReason: 'tool_use',
      toolCalls: 1,
      output: 'Checking.\n[tool get_weather] {"city":"Paris","days":2}',
    });
  });

  it('reads Anthropic error bodies', () => {
    const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' };
    expect(adapter.describeResponse(JSON.stringify(overloaded), 529).error).toEqual({ status: 529, type: 'overloaded_error', message: 'Overloaded' });
  });
});

const stream: WireEvents = [
  {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000, output_tokens: 1 },
      },
    },
  },
  { event: 'ping', data: { type: 'ping' } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user wants weather.' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Check' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'ing.' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
  {
    event: 'content_block_start',
    data: { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
  },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: 'ris", "days": 2}' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
  {
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 95, output_tokens_details: { thinking_tokens: 30 } },
    },
  },
  { event: 'message_stop', data: { type: 'message_stop' } },
];

describe('Anthropic messages adapter: streams', () => {
  it('gives the same facts as the plain message, tool input normalised from its spaced fragments', () => {
    expect(replay(adapter, sseText(stream), { pieceBytes: 3 })).toEqual({
      ...adapter.describeResponse(message, 200),
      stream: { completed: true, malformedEvents: 0, ttftMs: expect.any(Number) },
    });
  });

  it('replaces usage with the cumulative counts of message_delta instead of adding them', () => {
    const twice: WireEvents = [
      ...stream.slice(0, 15),
      stream[15]!,
      { data: { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 120 } } },
      stream[16]!,
    ];
    expect(replay(adapter, sseText(twice)).usage).toMatchObject({ inputTokens: 1040, outputTokens: 120, reasoningTokens: 30 });
  });

  it('starts the first-token clock at the first thinking or text delta', () => {
    let now = 0;
    const accumulator = adapter.streamAccumulator({ now: () => now, startedAt: 0 });
    stream.forEach((event, index) => {
      now = index * 10;
      accumulator.push(event);
    });
    expect(accumulator.result().stream?.ttftMs).toBe(30);
  });

  it('keeps what arrived when an error event ends the stream, tool input cut short included', () => {
    const cut = [...stream.slice(0, 13), { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }];
    expect(replay(adapter, sseText(cut))).toMatchObject({
      output: 'Checking.\n[tool get_weather] {"city": "Pa',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      stream: { completed: false },
    });
  });

  it('reports a tool called without arguments as {} whether streamed or not', () => {
    const bare: WireEvents = [
      stream[0]!,
      { data: { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} } } },
      { data: { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } } },
      { data: { type: 'content_block_stop', index: 0 } },
      { data: { type: 'message_stop' } },
    ];
    expect(replay(adapter, sseText(bare)).output).toBe('[tool now] {}');
  });

  it('counts a delta for a block that never started, or without an index, as malformed', () => {
    const odd: WireEvents = [stream[0]!, { data: { type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } } }, stream[16]!];
    expect(replay(adapter, sseText(odd)).stream).toMatchObject({ malformedEvents: 1, completed: true });
  });
});

import { describe, expect, it } from 'vitest';
import { openAIChatAdapter as adapter } from './openai-chat.js';
import { replay, sseText, type WireEvents } from './test-support/replay.js';

// Samples follow OpenAI's chat completions wire format (API reference and observed responses).

const request = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather in Paris?' },
        { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } },
      ],
    },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '18C and sunny' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  stream: true,
  stream_options: { include_usage: true },
};

const usage = {
  prompt_tokens: 1486,
  completion_tokens: 651,
  total_tokens: 2137,
  prompt_tokens_details: { cached_tokens: 1408, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 512, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

describe('OpenAI chat completions adapter: requests', () => {
  it('reads model, stream flag, message and tool counts, and separates instructions from conversation', () => {
    expect(adapter.describeRequest(request)).toEqual({
      model: 'gpt-4o',
      stream: true,
      messageCount: 5,
      toolsProvided: 1,
      texts: {
        system: 'You are terse.\n\nAnswer in English.',
        input: 'user: Weather in Paris?\nassistant: [tool get_weather] {"city":"Paris"}\ntool: 18C and sunny',
      },
    });
  });

  it('reads the request from its raw bytes too, and counts legacy `functions` as tools', () => {
    const raw = Buffer.from(JSON.stringify({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: 'hi' }], functions: [{ name: 'a' }, { name: 'b' }] }));
    expect(adapter.describeRequest(raw)).toMatchObject({ model: 'gpt-3.5-turbo', stream: false, messageCount: 1, toolsProvided: 2 });
  });

  it('gives what it can for a body that is not a chat request, and never throws', () => {
    expect(adapter.describeRequest('not json')).toEqual({ stream: false, texts: {} });
    expect(adapter.describeRequest({ model: 7, messages: 'x' })).toEqual({ stream: false, texts: {} });
  });
});

describe('OpenAI chat completions adapter: plain responses', () => {
  it('maps usage as reported: cached inside prompt tokens, reasoning inside completion tokens', () => {
    const body = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_727_000_000,
      model: 'o3-2025-04-16',
      choices: [{ index: 0, message: { role: 'assistant', content: 'It is 18C.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
    };
    expect(adapter.describeResponse(body, 200)).toEqual({
      model: 'o3-2025-04-16',
      usage: { inputTokens: 1486, cachedTokens: 1408, outputTokens: 651, reasoningTokens: 512 },
      stopReason: 'stop',
      toolCalls: 0,
      output: 'It is 18C.',
    });
  });

  it('counts parallel tool calls and puts their arguments in the output text', () => {
    const body = {
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120 },
    };
    expect(adapter.describeResponse(body, 200)).toMatchObject({
      stopReason: 'tool_calls',
      toolCalls: 2,
      output: '[tool get_weather] {"city":"Paris"}\n[tool get_weather] {"city":"Oslo"}',
      usage: { inputTokens: 80, outputTokens: 40 },
    });
  });

  it('reads custom (free-form) tool calls by their input', () => {
    const body = {
      model: 'gpt-5',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'run_sql', input: 'SELECT 1' } }] },
        },
      ],
    };
    expect(adapter.describeResponse(body, 200)).toMatchObject({ toolCalls: 1, output: '[tool run_sql] SELECT 1' });
  });

  it('keeps a refusal as output text', () => {
    const body = {
      model: 'gpt-4o',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: "I can't help with that." } }],
    };
    expect(adapter.describeResponse(body, 200).output).toBe("I can't help with that.");
  });

  it('reads an upstream error body with its status', () => {
    const body = { error: { message: 'Rate limit reached for gpt-4o', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    expect(adapter.describeResponse(JSON.stringify(body), 429)).toEqual({
      usage: {},
      error: { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for gpt-4o' },
    });
  });

  it('never copies a non-JSON error body into the facts', () => {
    expect(adapter.describeResponse('<html>Bad gateway: secret internal host</html>', 502).error).toEqual({ status: 502 });
  });
});

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
  data: { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices, ...extra },
});

const textStream: WireEvents = [
  chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], { usage: null }),
  chunk([{ index: 0, delta: { content: 'It is ' }, finish_reason: null }], { usage: null }),
  chunk([{ index: 0, delta: { content: '18C.' }, finish_reason: null }], { usage: null }),
  chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { usage: null }),
  chunk([], { usage }),
];

describe('OpenAI chat completions adapter: streams', () => {
  it('assembles text, takes usage from the last chunk (include_usage), and sees [DONE]', () => {
    expect(replay(adapter, sseText(textStream, true))).toMatchObject({
      model: 'gpt-4o-2024-08-06',
      usage: { inputTokens: 1486, cachedTokens: 1408, outputTokens: 651, reasoningTokens: 512 },
      stopReason: 'stop',
      toolCalls: 0,
      output: 'It is 18C.',
      stream: { completed: true, malformedEvents: 0 },
    });
  });

  it('has no usage when the request did not ask for it, and is incomplete without [DONE]', () => {
    const facts = replay(adapter, sseText(textStream.slice(0, 4)));
    expect(facts.usage).toEqual({});
    expect(facts.stream?.completed).toBe(false);
    expect(facts.output).toBe('It is 18C.');
  });

  it('assembles tool calls from id/name and argument fragments keyed by index, two calls interleaved', () => {
    const events: WireEvents = [
      chunk([
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: null,
            tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
          },
        },
      ]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }] } }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{"tz":"CET"}' } }] } }]),
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
    ];
    expect(replay(adapter, sseText(events, true))).toMatchObject({
      stopReason: 'tool_calls',
      toolCalls: 2,
      output: '[tool get_weather] {"city":"Paris"}\n[tool get_time] {"tz":"CET"}',
    });
  });

  it('measures time to first token at the first content, not at the role-only first chunk', () => {
    let now = 100;
    const accumulator = adapter.streamAccumulator({ now: () => now, startedAt: 100 });
    now = 140;
    accumulator.push({ data: textStream[0]!.data });
    now = 175.04;
    accumulator.push({ data: textStream[1]!.data });
    now = 900;
    accumulator.push({ data: textStream[2]!.data });
    expect(accumulator.result().stream?.ttftMs).toBe(75);
  });

  it('records an error sent inside the stream, keeping the text that came before', () => {
    const events: WireEvents = [
      ...textStream.slice(0, 2),
      { data: { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } } },
    ];
    expect(replay(adapter, sseText(events))).toMatchObject({
      output: 'It is ',
      error: { type: 'server_error', message: 'The server had an error' },
      stream: { completed: false },
    });
  });

  it('counts events it cannot read and keeps going', () => {
    const sse = sseText(textStream.slice(0, 2)) + 'data: {"choices": [\n\n' + 'data: 42\n\n' + sseText(textStream.slice(2), true);
    expect(replay(adapter, sse)).toMatchObject({ output: 'It is 18C.', stream: { completed: true, malformedEvents: 2 } });
  });

  it('keeps each choice apart when n > 1, ordering output by choice index', () => {
    const events: WireEvents = [
      chunk([{ index: 1, delta: { content: 'B' } }]),
      chunk([{ index: 0, delta: { content: 'A' } }]),
      chunk([
        { index: 0, delta: {}, finish_reason: 'stop' },
        { index: 1, delta: {}, finish_reason: 'length' },
      ]),
    ];
    expect(replay(adapter, sseText(events, true))).toMatchObject({ output: 'A\nB', stopReason: 'stop' });
  });
});

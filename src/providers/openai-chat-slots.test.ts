import { describe, expect, it } from 'vitest';
import { openAIChatAdapter as adapter } from './openai-chat.js';
import { openAIReply } from './simulated/fake-openai.js';
import { FAKE_ANSWER } from './simulated/fake-scenarios.js';
import { replay } from './test-support/replay.js';
import { chatRequest } from './test-support/sample-requests.js';
import { answerBody, decodeReply, deltaTextByChannel, encode, mask, rewriteStream, upperCaseAll } from './test-support/slot-helpers.js';

// Samples follow OpenAI's chat completions wire format; streams come from the fake upstream.

describe('OpenAI chat completions: request texts', () => {
  it('lists every text the model reads, in body order: contents of all roles, text and refusal parts, earlier refusals', () => {
    expect(adapter.requestTexts(chatRequest()).map((slot) => slot.text)).toEqual([
      'You are terse.',
      'Answer in English.',
      'What is in this picture?',
      'And the weather in Paris?',
      'A cat. Checking.',
      '18C and sunny',
      'I cannot say more.',
      'I cannot say more.',
      'humidity 40%',
      'Thanks!',
    ]);
  });

  it('writes each replacement where its text was: string contents stay strings, parts change their text, nothing else moves', () => {
    const body = chatRequest();
    upperCaseAll(adapter.requestTexts(body));
    const expected = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'YOU ARE TERSE.' },
        { role: 'developer', content: [{ type: 'text', text: 'ANSWER IN ENGLISH.' }] },
        {
          role: 'user',
          name: 'alice',
          content: [
            { type: 'text', text: 'WHAT IS IN THIS PICTURE?' },
            { type: 'image_url', image_url: { url: 'https://example.test/cat.png', detail: 'low' } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'text', text: 'AND THE WEATHER IN PARIS?' },
          ],
        },
        {
          role: 'assistant',
          content: 'A CAT. CHECKING.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C AND SUNNY' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I CANNOT SAY MORE.' }], refusal: 'I CANNOT SAY MORE.' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'HUMIDITY 40%' }] },
        { role: 'user', content: 'THANKS!' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object' } } }],
      max_completion_tokens: 300,
    };
    expect(JSON.stringify(body)).toBe(JSON.stringify(expected));
  });

  it('gives no slot for a mistyped content, part or message', () => {
    const body = {
      messages: [
        null,
        'hi',
        { role: 'user', content: 42 },
        { role: 'user', content: [{ type: 'text', text: 7 }, 'loose', { text: 'untyped' }] },
        { role: 'assistant', content: null },
      ],
    };
    expect(adapter.requestTexts(body)).toEqual([]);
    expect(adapter.requestTexts({ messages: 'hi' })).toEqual([]);
  });
});

describe('OpenAI chat completions: answer texts', () => {
  it("lists the fake upstream's answer, and writes its replacement in place", () => {
    const body = answerBody(openAIReply('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, 'answer'));
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual([FAKE_ANSWER]);
    slots[0]!.set('[redacted]');
    expect(adapter.describeResponse(body, 200).output).toBe('[redacted]');
  });

  it('lists content and refusal of every choice, and not tool-call arguments', () => {
    const body = {
      choices: [
        { index: 0, message: { role: 'assistant', content: 'It is 18C.', refusal: null }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: null, refusal: 'I cannot help.' }, finish_reason: 'stop' },
        {
          index: 2,
          message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
    };
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual(['It is 18C.', 'I cannot help.']);
    upperCaseAll(slots);
    expect(body.choices.map((choice) => choice.message)).toEqual([
      { role: 'assistant', content: 'IT IS 18C.', refusal: null },
      { role: 'assistant', content: null, refusal: 'I CANNOT HELP.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
    ]);
  });
});

describe('OpenAI chat completions: stream texts', () => {
  const fakeStream = (scenario: 'answer' | 'tool') =>
    decodeReply(openAIReply('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true, stream_options: { include_usage: true } }, scenario));

  it("joins the fake upstream's content deltas on channel 0 into the text the accumulator reports", () => {
    const stream = fakeStream('answer');
    expect(deltaTextByChannel(adapter, stream)).toEqual({ '0': FAKE_ANSWER });
    expect(replay(adapter, encode(stream)).output).toBe(FAKE_ANSWER);
  });

  it('rewrites the deltas in place: the stream sent on carries only the redacted text', () => {
    const stream = fakeStream('answer');
    rewriteStream(adapter, stream, ['delta'], mask);
    const sent = encode(stream);
    expect(replay(adapter, sent)).toMatchObject({ output: mask(FAKE_ANSWER), stream: { completed: true, malformedEvents: 0 } });
    expect(sent).not.toContain('Bonjour');
  });

  it('has no slot for tool-call argument fragments', () => {
    const stream = fakeStream('tool');
    expect(stream.events.flatMap((event) => adapter.streamTexts(event))).toEqual([]);
  });

  it('keeps each choice, and a refusal apart from content, on its own channel', () => {
    const chunk = {
      choices: [
        { index: 0, delta: { content: 'It is' } },
        { index: 1, delta: { refusal: 'I cannot' } },
        { index: 0, delta: { content: ' 18C.', refusal: 'Nor' } },
      ],
    };
    expect(adapter.streamTexts({ data: chunk }).map(({ channel, kind, text }) => ({ channel, kind, text }))).toEqual([
      { channel: '0', kind: 'delta', text: 'It is' },
      { channel: '1:refusal', kind: 'delta', text: 'I cannot' },
      { channel: '0', kind: 'delta', text: ' 18C.' },
      { channel: '0:refusal', kind: 'delta', text: 'Nor' },
    ]);
  });
});

describe('OpenAI chat completions: output token limit', () => {
  const limit = adapter.outputTokenLimit;

  it('reads max_completion_tokens or the older max_tokens, the smaller when both are set', () => {
    expect(limit.read({ max_completion_tokens: 300 })).toBe(300);
    expect(limit.read({ max_tokens: 200 })).toBe(200);
    expect(limit.read({ max_completion_tokens: 300, max_tokens: 200 })).toBe(200);
    expect(limit.read({ max_completion_tokens: null, max_tokens: 'many' })).toBeUndefined();
  });

  it('writes to the fields the client set, else to max_completion_tokens', () => {
    const older = { max_tokens: 2000 };
    limit.write(older, 100);
    expect(older).toEqual({ max_tokens: 100 });
    const both = { max_completion_tokens: 2000, max_tokens: 1000 };
    limit.write(both, 100);
    expect(both).toEqual({ max_completion_tokens: 100, max_tokens: 100 });
    const none: Record<string, unknown> = { max_tokens: null };
    limit.write(none, 100);
    expect(none).toEqual({ max_tokens: null, max_completion_tokens: 100 });
  });
});

import { describe, expect, it } from 'vitest';
import { anthropicMessagesAdapter as adapter } from './anthropic-messages.js';
import { anthropicReply } from './simulated/fake-anthropic.js';
import { FAKE_ANSWER, FAKE_THINKING } from './simulated/fake-scenarios.js';
import { replay } from './test-support/replay.js';
import { image, messagesRequest } from './test-support/sample-requests.js';
import { answerBody, decodeReply, deltaTextByChannel, encode, mask, rewriteStream, upperCaseAll } from './test-support/slot-helpers.js';

// Samples follow Anthropic's Messages API wire format; answers and streams come from the fake upstream.

describe('Anthropic messages: request texts', () => {
  it('lists system blocks, then text blocks, tool results and plain-text documents, in body order', () => {
    expect(adapter.requestTexts(messagesRequest()).map((slot) => slot.text)).toEqual([
      'You are terse.',
      'Use metric units.',
      'What is in this picture?',
      'And the weather in Paris?',
      'A cat. Checking.',
      '18C and sunny',
      'humidity 40%',
      'Paris is mild.',
      'Quarterly notes.',
      'Noted.',
      'Thanks!',
    ]);
  });

  it('writes each replacement where its text was, and nothing else moves', () => {
    const body = messagesRequest();
    upperCaseAll(adapter.requestTexts(body));
    const expected = {
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: [
        { type: 'text', text: 'YOU ARE TERSE.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'USE METRIC UNITS.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'WHAT IS IN THIS PICTURE?' }, image, { type: 'text', text: 'AND THE WEATHER IN PARIS?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Needs the weather.', signature: 'sig' },
            { type: 'text', text: 'A CAT. CHECKING.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'search', input: { q: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C AND SUNNY' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'HUMIDITY 40%' },
                image,
                { type: 'search_result', source: 'https://example.test/paris', title: 'Paris', content: [{ type: 'text', text: 'PARIS IS MILD.' }] },
              ],
            },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'QUARTERLY NOTES.' }, title: 'Notes' },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
          ],
        },
        { role: 'assistant', content: 'NOTED.' },
        { role: 'user', content: 'THANKS!' },
      ],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' } }],
    };
    expect(JSON.stringify(body)).toBe(JSON.stringify(expected));
  });

  it('reads a string system prompt, which stays a string', () => {
    const body = { system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] };
    upperCaseAll(adapter.requestTexts(body));
    expect(body).toEqual({ system: 'BE BRIEF.', messages: [{ role: 'user', content: 'HI' }] });
  });

  it('does not follow blocks nested deeper than the API allows', () => {
    let content: unknown = [{ type: 'text', text: 'deep' }];
    for (let depth = 0; depth < 10_000; depth += 1) content = [{ type: 'tool_result', content }];
    expect(adapter.requestTexts({ messages: [{ role: 'user', content }] })).toEqual([]);
  });
});

describe('Anthropic messages: answer texts', () => {
  it("lists the fake upstream's text blocks, not its thinking or tool input, and writes replacements in place", () => {
    const body = answerBody(
      anthropicReply({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: [], thinking: { type: 'enabled', budget_tokens: 1024 } }, 'tool'),
    );
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual(["I'll check the weather."]);
    slots[0]!.set('[redacted]');
    expect(adapter.describeResponse(body, 200).output).toBe('[redacted]\n[tool get_weather] {"city":"Paris","unit":"celsius"}');
    expect(JSON.stringify(body)).toContain(FAKE_THINKING);
  });
});

describe('Anthropic messages: stream texts', () => {
  const fakeStream = () =>
    decodeReply(
      anthropicReply({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: [], stream: true, thinking: { type: 'enabled', budget_tokens: 1024 } }, 'answer'),
    );

  it("joins the fake upstream's text deltas on the block's index into the text the accumulator reports; thinking has none", () => {
    const stream = fakeStream();
    expect(deltaTextByChannel(adapter, stream)).toEqual({ '1': FAKE_ANSWER });
    expect(replay(adapter, encode(stream)).output).toBe(FAKE_ANSWER);
  });

  it("gives the text block's start as a whole slot on its channel", () => {
    const wholes = fakeStream().events.flatMap((event) => adapter.streamTexts(event).filter((slot) => slot.kind === 'whole'));
    expect(wholes.map(({ channel, text }) => ({ channel, text }))).toEqual([{ channel: '1', text: '' }]);
  });

  it('rewrites the deltas in place: the stream sent on carries only the redacted text', () => {
    const stream = fakeStream();
    rewriteStream(adapter, stream, ['delta'], mask);
    const sent = encode(stream);
    expect(replay(adapter, sent)).toMatchObject({ output: mask(FAKE_ANSWER), stream: { completed: true, malformedEvents: 0 } });
    expect(sent).not.toContain('Bonjour');
    expect(sent).toContain(FAKE_THINKING.slice(0, 12));
  });
});

describe('Anthropic messages: output token limit', () => {
  it('reads and writes max_tokens', () => {
    const body = { max_tokens: 4096 };
    expect(adapter.outputTokenLimit.read(body)).toBe(4096);
    adapter.outputTokenLimit.write(body, 512);
    expect(body).toEqual({ max_tokens: 512 });
  });
});

import { describe, expect, it } from 'vitest';
import { openAICompletionsAdapter as adapter } from './openai-completions.js';
import { replay, sseText, type WireEvents } from './test-support/replay.js';
import { openAIReply } from './simulated/fake-openai.js';
import { FAKE_ANSWER } from './simulated/fake-scenarios.js';
import { answerBody, decodeReply, deltaTextByChannel, encode, mask, rewriteStream, upperCaseAll } from './test-support/slot-helpers.js';

describe('OpenAI legacy completions adapter', () => {
  it('reads a prompt (string or list) as the input text; there are no messages', () => {
    expect(adapter.describeRequest({ model: 'gpt-3.5-turbo-instruct', prompt: ['Say', 'hello'], stream: true })).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      stream: true,
      texts: { input: 'Say\nhello' },
    });
  });

  it('reads choices[].text, finish reason and usage', () => {
    const body = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ text: '\n\nHello!', index: 0, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 },
    };
    expect(adapter.describeResponse(body, 200)).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      usage: { inputTokens: 2, outputTokens: 16 },
      stopReason: 'length',
      output: '\n\nHello!',
    });
  });

  it('assembles a stream, usage from the include_usage chunk, and the plain facts match', () => {
    const chunk = (text: string, finish: string | null) => ({
      data: {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'gpt-3.5-turbo-instruct',
        choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      },
    });
    const events: WireEvents = [
      chunk('\n\nHel', null),
      chunk('lo!', null),
      chunk('', 'length'),
      {
        data: {
          id: 'cmpl-1',
          object: 'text_completion',
          model: 'gpt-3.5-turbo-instruct',
          choices: [],
          usage: { prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 },
        },
      },
    ];
    expect(replay(adapter, sseText(events, true))).toMatchObject({
      model: 'gpt-3.5-turbo-instruct',
      usage: { inputTokens: 2, outputTokens: 16 },
      stopReason: 'length',
      output: '\n\nHello!',
      stream: { completed: true, malformedEvents: 0 },
    });
  });
});

describe('OpenAI legacy completions: texts', () => {
  it('lists a prompt string, or each string of a prompt list; token-id prompts give none', () => {
    const body = { model: 'gpt-3.5-turbo-instruct', prompt: ['Say', [1, 2], 'hello'], suffix: 'end', max_tokens: 16 };
    upperCaseAll(adapter.requestTexts(body));
    expect(body).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt: ['SAY', [1, 2], 'HELLO'], suffix: 'end', max_tokens: 16 });
    const single = { prompt: 'Say hello' };
    upperCaseAll(adapter.requestTexts(single));
    expect(single).toEqual({ prompt: 'SAY HELLO' });
    expect(adapter.requestTexts({ prompt: [15339, 1917] })).toEqual([]);
  });

  it("lists each choice's text of the fake upstream's answer, and writes replacements in place", () => {
    const body = answerBody(openAIReply('/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'hi' }, 'answer'));
    const slots = adapter.responseTexts(body);
    expect(slots.map((slot) => slot.text)).toEqual([FAKE_ANSWER]);
    slots[0]!.set('[redacted]');
    expect(adapter.describeResponse(body, 200).output).toBe('[redacted]');
  });

  it("joins the fake upstream's streamed text on channel 0 into the accumulator's output, and rewrites it in place", () => {
    const stream = decodeReply(openAIReply('/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: true }, 'answer'));
    expect(deltaTextByChannel(adapter, stream)).toEqual({ '0': FAKE_ANSWER });
    expect(replay(adapter, encode(stream)).output).toBe(FAKE_ANSWER);
    rewriteStream(adapter, stream, ['delta'], mask);
    expect(replay(adapter, encode(stream))).toMatchObject({ output: mask(FAKE_ANSWER), stream: { completed: true } });
  });

  it('keeps each choice of a chunk on its own channel', () => {
    const chunk = {
      choices: [
        { index: 1, text: 'b' },
        { index: 0, text: 'a' },
      ],
    };
    expect(adapter.streamTexts({ data: chunk }).map(({ channel, text }) => `${channel}=${text}`)).toEqual(['1=b', '0=a']);
  });

  it('reads and writes max_tokens', () => {
    const body: Record<string, unknown> = { prompt: 'hi' };
    expect(adapter.outputTokenLimit.read(body)).toBeUndefined();
    adapter.outputTokenLimit.write(body, 64);
    expect(body).toEqual({ prompt: 'hi', max_tokens: 64 });
    expect(adapter.outputTokenLimit.read(body)).toBe(64);
  });
});

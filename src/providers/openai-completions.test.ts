import { describe, expect, it } from 'vitest';
import { openAICompletionsAdapter as adapter } from './openai-completions.js';
import { replay, sseText, type WireEvents } from './test-support/replay.js';

describe('OpenAI legacy completions adapter', () => {
  it('reads a prompt (string or list) as the input text; there are no messages', () => {
    expect(adapter.describeRequest({ model: 'gpt-3.5-turbo-instruct', prompt: ['Say', 'hello'], stream: true })).toEqual({ model: 'gpt-3.5-turbo-instruct', stream: true, texts: { input: 'Say\nhello' } });
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
    expect(adapter.describeResponse(body, 200)).toEqual({ model: 'gpt-3.5-turbo-instruct', usage: { inputTokens: 2, outputTokens: 16 }, stopReason: 'length', output: '\n\nHello!' });
  });

  it('assembles a stream, usage from the include_usage chunk, and the plain facts match', () => {
    const chunk = (text: string, finish: string | null) => ({ data: { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'gpt-3.5-turbo-instruct', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] } });
    const events: WireEvents = [chunk('\n\nHel', null), chunk('lo!', null), chunk('', 'length'), { data: { id: 'cmpl-1', object: 'text_completion', model: 'gpt-3.5-turbo-instruct', choices: [], usage: { prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 } } }];
    expect(replay(adapter, sseText(events, true))).toMatchObject({ model: 'gpt-3.5-turbo-instruct', usage: { inputTokens: 2, outputTokens: 16 }, stopReason: 'length', output: '\n\nHello!', stream: { completed: true, malformedEvents: 0 } });
  });
});

import { describe, expect, it } from 'vitest';
import { openAIEmbeddingsAdapter as adapter } from './openai-embeddings.js';
import { upperCaseAll } from './test-support/slot-helpers.js';

describe('OpenAI embeddings adapter', () => {
  it('digests string inputs, one per line, and never token-id inputs', () => {
    expect(adapter.describeRequest({ model: 'text-embedding-3-small', input: 'one text' }).texts).toEqual({ input: 'one text' });
    expect(adapter.describeRequest({ model: 'text-embedding-3-small', input: ['a', 'b'] }).texts).toEqual({ input: 'a\nb' });
    expect(adapter.describeRequest({ model: 'text-embedding-3-small', input: [[1, 2, 3], [4]] }).texts).toEqual({});
  });

  it('keeps prompt tokens and the model; vectors are not text and there are no output tokens', () => {
    const body = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2] }],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    };
    expect(adapter.describeResponse(body, 200)).toEqual({ model: 'text-embedding-3-small', usage: { inputTokens: 8 } });
  });

  it('reads an error', () => {
    const body = { error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', param: null, code: null } };
    expect(adapter.describeResponse(body, 400).error).toEqual({
      status: 400,
      type: 'invalid_request_error',
      message: "This model's maximum context length is 8192 tokens",
    });
  });

  it('never streams: any event offered to its accumulator is counted as unreadable', () => {
    const accumulator = adapter.streamAccumulator();
    accumulator.push({ data: { object: 'list' } });
    expect(accumulator.result()).toEqual({ usage: {}, stream: { completed: false, malformedEvents: 1 } });
  });
});

describe('OpenAI embeddings: texts', () => {
  it('lists string inputs, and writes replacements in place; token-id inputs give none', () => {
    const body = { model: 'text-embedding-3-small', input: ['first text', [1, 2, 3], 'second text'], dimensions: 8 };
    upperCaseAll(adapter.requestTexts(body));
    expect(body).toEqual({ model: 'text-embedding-3-small', input: ['FIRST TEXT', [1, 2, 3], 'SECOND TEXT'], dimensions: 8 });
    const single = { input: 'one text' };
    upperCaseAll(adapter.requestTexts(single));
    expect(single).toEqual({ input: 'ONE TEXT' });
  });

  it('has no answer texts, no stream texts and no output cap', () => {
    const answer = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }] };
    expect(adapter.responseTexts(answer)).toEqual([]);
    expect(adapter.streamTexts({ data: { choices: [{ index: 0, text: 'x' }] } })).toEqual([]);
    const body = { input: 'x', max_tokens: 5 };
    expect(adapter.outputTokenLimit.read(body)).toBeUndefined();
    adapter.outputTokenLimit.write(body, 1);
    expect(body).toEqual({ input: 'x', max_tokens: 5 });
  });
});

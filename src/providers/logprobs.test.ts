import { describe, expect, it } from 'vitest';
import { dropLogprobs } from './logprobs.js';

describe('dropLogprobs', () => {
  it('empties every logprobs member of a chat answer and a Responses event, leaving the rest', () => {
    const chat = { choices: [{ index: 0, message: { content: '[REDACTED:email]' }, logprobs: { content: [{ token: 'bob', logprob: -0.1 }] } }] };
    dropLogprobs(chat);
    expect(chat).toEqual({ choices: [{ index: 0, message: { content: '[REDACTED:email]' }, logprobs: null }] });
    const delta = { type: 'response.output_text.delta', delta: 'x', logprobs: [{ token: 'bob' }] };
    dropLogprobs(delta);
    expect(delta).toEqual({ type: 'response.output_text.delta', delta: 'x', logprobs: null });
  });
});

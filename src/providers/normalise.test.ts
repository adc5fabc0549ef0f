import { afterEach, describe, expect, it } from 'vitest';
import { openTestLedger, tempDir } from '../ledger/test-support/fixtures.js';
import type { Ledger } from '../ledger/ledger.js';
import { parseRecordInput } from '../record/schema.js';
import { anthropicMessagesAdapter } from './anthropic-messages.js';
import { normaliseCall, toRecordInput } from './normalise.js';
import { openAIChatAdapter } from './openai-chat.js';
import { costUsd } from './pricing.js';
import { replay, sseText } from './test-support/replay.js';

const request = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Hi' },
  ],
  tools: [{ type: 'function', function: { name: 'f' } }],
};
const answer = {
  model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 20, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
};

describe('normaliseCall', () => {
  it('joins request and answer facts, preferring the model that answered', () => {
    const call = normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest(request), openAIChatAdapter.describeResponse(answer, 200));
    expect(call).toEqual({
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o-2024-08-06',
      stream: false,
      messageCount: 2,
      toolsProvided: 1,
      toolCalls: 0,
      stopReason: 'stop',
      usage: { inputTokens: 20, outputTokens: 3, cachedTokens: 0, reasoningTokens: 0 },
      texts: { system: 'Be terse.', input: 'user: Hi', output: 'Hello.' },
    });
  });

  it('keeps the requested model when an error answer names none, and carries the error', () => {
    const error = { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } };
    const call = normaliseCall(
      anthropicMessagesAdapter,
      anthropicMessagesAdapter.describeRequest({ model: 'claude-haiku-4-5', messages: [] }),
      anthropicMessagesAdapter.describeResponse(error, 429),
    );
    expect(call).toMatchObject({ model: 'claude-haiku-4-5', error: { status: 429, type: 'rate_limit_error', message: 'Slow down' } });
  });
});

describe('toRecordInput', () => {
  it('gives a record the ledger accepts, with texts as content for the capture policy', () => {
    const call = normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest(request), openAIChatAdapter.describeResponse(answer, 200));
    const record = toRecordInput(call);
    expect(parseRecordInput(record)).toEqual({
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o-2024-08-06',
      messageCount: 2,
      toolsProvided: 1,
      toolCalls: 0,
      stopReason: 'stop',
      inputTokens: 20,
      outputTokens: 3,
      cachedTokens: 0,
      reasoningTokens: 0,
      content: { system: 'Be terse.', input: 'user: Hi', output: 'Hello.' },
    });
  });

  it('states an upstream error by status, type and code, and hands its message to capture as content, never to the envelope', () => {
    const body = { error: { type: 'invalid_request_error', code: 'context_length_exceeded', message: 'Your prompt "planted-9b1c" is too long' } };
    const call = normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest({ model: 'gpt-4o' }), openAIChatAdapter.describeResponse(body, 400));
    const record = toRecordInput(call);
    expect(record).toEqual({
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o',
      error: 'HTTP 400 invalid_request_error (context_length_exceeded)',
      errorType: 'invalid_request_error',
      errorCode: 'context_length_exceeded',
      content: { error: 'Your prompt "planted-9b1c" is too long' },
    });
    expect(() => parseRecordInput(record)).not.toThrow();
  });

  it('keeps a type or code only when it is a short identifier, and leaves out absent content', () => {
    const odd = { error: { type: 'Invalid input: planted-7d0e', code: 'x'.repeat(65), message: 'Boom' } };
    const record = toRecordInput(
      normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest({ model: 'gpt-4o' }), openAIChatAdapter.describeResponse(odd, 500)),
    );
    expect(record).toEqual({ provider: 'openai', endpoint: 'chat.completions', model: 'gpt-4o', error: 'HTTP 500', content: { error: 'Boom' } });
    const html = toRecordInput(
      normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest({ model: 'gpt-4o' }), openAIChatAdapter.describeResponse('<html>planted</html>', 502)),
    );
    expect(html).toEqual({ provider: 'openai', endpoint: 'chat.completions', model: 'gpt-4o', error: 'HTTP 502' });
    const stream = replay(
      anthropicMessagesAdapter,
      sseText([{ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]),
    );
    expect(
      toRecordInput(normaliseCall(anthropicMessagesAdapter, anthropicMessagesAdapter.describeRequest({ model: 'claude-sonnet-4' }), stream)),
    ).toMatchObject({
      error: 'overloaded_error',
      errorType: 'overloaded_error',
      content: { error: 'Overloaded' },
    });
    expect(() => parseRecordInput(record)).not.toThrow();
  });
});

describe('a streamed and a plain call, recorded in a real ledger', () => {
  let ledger: Ledger | undefined;
  afterEach(async () => {
    await ledger?.close();
  });

  it('get the same digests and cost, since the adapters assemble the same texts', async () => {
    ledger = await openTestLedger(tempDir(), { store: 'memory' });
    const stream = sseText(
      [
        { data: { model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] } },
        { data: { model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { content: 'Hel' } }] } },
        { data: { model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { content: 'lo.' }, finish_reason: 'stop' }] } },
        { data: { model: 'gpt-4o-2024-08-06', choices: [], usage: answer.usage } },
      ],
      true,
    );
    const plain = normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest(request), openAIChatAdapter.describeResponse(answer, 200));
    const streamed = normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest({ ...request, stream: true }), replay(openAIChatAdapter, stream));
    const ids = [];
    for (const call of [plain, streamed]) ids.push((await ledger.record({ ...toRecordInput(call), costUsd: costUsd(call.model, call.usage) })).id);
    const [a, b] = await Promise.all(ids.map((id) => ledger!.get(id)));
    expect(a!.envelope.digests).toEqual(b!.envelope.digests);
    expect(a!.envelope.costUsd).toBe(0.00008);
    expect(b!.envelope).toMatchObject({ costUsd: 0.00008, inputTokens: 20, outputTokens: 3, stopReason: 'stop' });
    expect(JSON.stringify(b!.envelope)).not.toContain('Hello.');
  });
});

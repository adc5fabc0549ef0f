import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters.js';
import { anthropicMessagesAdapter } from './anthropic-messages.js';
import { normaliseCall, toRecordInput } from './normalise.js';
import { openAIChatAdapter } from './openai-chat.js';
import { openAICompletionsAdapter } from './openai-completions.js';
import { openAIEmbeddingsAdapter } from './openai-embeddings.js';
import { openAIResponsesAdapter } from './openai-responses.js';
import { observeStream } from './stream-observer.js';
import type { ProviderAdapter } from './types.js';

// What the adapters accept as an answer of their wire format, and how they report one that is
// not: `invalid_response`, with a reason that names what is wrong and quotes nothing of the body.

const NAMES: Record<string, string> = {
  'chat.completions': 'OpenAI chat completion',
  responses: 'OpenAI Responses API response',
  completions: 'OpenAI completion',
  embeddings: 'OpenAI embedding list',
  messages: 'Anthropic message',
};

/** The least a compatible server may send and still be valid, per endpoint. */
const MINIMAL: Record<string, unknown[]> = {
  'chat.completions': [{ object: 'chat.completion' }, { choices: [] }],
  responses: [{ object: 'response' }, { output: [] }],
  completions: [{ object: 'text_completion' }, { choices: [{ text: 'x' }] }],
  embeddings: [{ data: [] }],
  messages: [{ type: 'message' }, { content: [] }],
};

const SECRET = 'planted-secret-7f3a';

const reason = (adapter: ProviderAdapter, raw: unknown, status = 200) => adapter.describeResponse(raw, status).error;

describe('plain answers that are not of their wire format', () => {
  for (const adapter of ADAPTERS) {
    const name = NAMES[adapter.endpoint]!;
    describe(adapter.endpoint, () => {
      it('accepts the least a compatible server sends', () => {
        for (const body of MINIMAL[adapter.endpoint]!) {
          expect(reason(adapter, body)).toBeUndefined();
          expect(reason(adapter, JSON.stringify(body))).toBeUndefined();
          expect(reason(adapter, Buffer.from(JSON.stringify(body)))).toBeUndefined();
        }
      });

      it('says what is wrong: empty, not JSON, not an object, or JSON of another shape', () => {
        const invalid = (why: string) => ({ status: 200, type: 'invalid_response', reason: `answer is not a valid ${name}: ${why}` });
        expect(reason(adapter, '')).toEqual(invalid('empty body'));
        expect(reason(adapter, ' \r\n')).toEqual(invalid('empty body'));
        expect(reason(adapter, new Uint8Array())).toEqual(invalid('empty body'));
        expect(reason(adapter, undefined)).toEqual(invalid('empty body'));
        expect(reason(adapter, `<html><body>${SECRET}</body></html>`)).toEqual(invalid('not JSON'));
        expect(reason(adapter, Buffer.from([0xff, 0xfe, 0x00, 0x7b]))).toEqual(invalid('not JSON'));
        expect(reason(adapter, `{"id": "${SECRET}", "choices": [`)).toEqual(invalid('not JSON'));
        expect(reason(adapter, `["${SECRET}"]`)).toEqual(invalid('not a JSON object'));
        expect(reason(adapter, '42')).toEqual(invalid('not a JSON object'));
        expect(reason(adapter, 'null')).toEqual(invalid('not a JSON object'));
        expect(reason(adapter, [SECRET])).toEqual(invalid('not a JSON object'));
        const wrong = reason(adapter, { hello: SECRET });
        expect(wrong).toMatchObject({ status: 200, type: 'invalid_response' });
        expect(wrong!.reason).toMatch(new RegExp(`^answer is not a valid ${name}: JSON without `));
        expect(JSON.stringify(wrong)).not.toContain(SECRET);
        expect(JSON.stringify(wrong)).not.toContain('hello');
      });

      it('judges any status below 400, and leaves error answers to the upstream error reader', () => {
        expect(reason(adapter, 'garbage', 201)).toMatchObject({ status: 201, type: 'invalid_response' });
        expect(reason(adapter, '<html>Bad gateway</html>', 502)).toEqual({ status: 502 });
        // Both providers' error bodies (`{"error": {...}}`, Anthropic's with `"type": "error"`).
        const error = reason(adapter, { type: 'error', error: { type: 'server_error', message: 'boom' } }, 200);
        expect(error).toBeDefined();
        expect(error!.type).not.toBe('invalid_response');
      });
    });
  }

  it('the per-format requirement is named in the reason', () => {
    expect(reason(openAIChatAdapter, { hello: 1 })!.reason).toBe(
      'answer is not a valid OpenAI chat completion: JSON without "object": "chat.completion" or a "choices" array',
    );
    expect(reason(openAIResponsesAdapter, { hello: 1 })!.reason).toBe(
      'answer is not a valid OpenAI Responses API response: JSON without "object": "response" or an "output" array',
    );
    expect(reason(openAICompletionsAdapter, { hello: 1 })!.reason).toBe(
      'answer is not a valid OpenAI completion: JSON without "object": "text_completion" or a "choices" array',
    );
    expect(reason(openAIEmbeddingsAdapter, { hello: 1 })!.reason).toBe('answer is not a valid OpenAI embedding list: JSON without a "data" array');
    expect(reason(anthropicMessagesAdapter, { hello: 1 })!.reason).toBe(
      'answer is not a valid Anthropic message: JSON without "type": "message" or a "content" array',
    );
  });

  it('becomes a record with status text, errorType invalid_response, and no error content', () => {
    const facts = openAIChatAdapter.describeResponse(`<html>${SECRET}</html>`, 200);
    const record = toRecordInput(normaliseCall(openAIChatAdapter, openAIChatAdapter.describeRequest({ model: 'gpt-4o', messages: [] }), facts));
    expect(record).toMatchObject({ error: 'HTTP 200 answer is not a valid OpenAI chat completion: not JSON', errorType: 'invalid_response' });
    expect(record.errorCode).toBeUndefined();
    expect(record.content).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(SECRET);
  });
});

/** Feeds an SSE text to an adapter's observer, and ends it (or cuts it off). */
function observe(adapter: ProviderAdapter, sse: string, cutOff = false) {
  const observer = observeStream(adapter);
  observer.push(Buffer.from(sse));
  return cutOff ? observer.cutOff() : observer.end();
}

const frame = (data: unknown, event?: string) =>
  `${event === undefined ? '' : `event: ${event}\n`}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

const STREAMS = [
  {
    adapter: openAIChatAdapter,
    name: 'OpenAI chat completion stream',
    event: 'chat.completion.chunk event',
    valid: [frame({ object: 'chat.completion.chunk', choices: [] }), frame({ choices: [] })],
  },
  {
    adapter: openAICompletionsAdapter,
    name: 'OpenAI completion stream',
    event: 'text_completion event',
    valid: [frame({ object: 'text_completion', choices: [] }), frame({ choices: [] })],
  },
  {
    adapter: openAIResponsesAdapter,
    name: 'OpenAI Responses API stream',
    event: 'response.* event',
    valid: [frame({ type: 'response.created', response: {} }, 'response.created'), frame({ type: 'response.output_text.delta', delta: 'x', output_index: 0 })],
  },
  {
    adapter: anthropicMessagesAdapter,
    name: 'Anthropic message stream',
    event: 'message_start event',
    valid: [frame({ type: 'message_start', message: {} }, 'message_start')],
  },
];

describe('event streams that are not of their wire format', () => {
  for (const { adapter, name, event, valid } of STREAMS) {
    describe(adapter.endpoint, () => {
      it('accepts a stream with one event of the format', () => {
        for (const sse of valid) expect(observe(adapter, sse).error).toBeUndefined();
      });

      it('says what is wrong: no event, no JSON event, or no event of the format', () => {
        const invalid = (why: string) => ({ type: 'invalid_response', reason: `stream is not a valid ${name}: ${why}` });
        expect(observe(adapter, '').error).toEqual(invalid('no event'));
        expect(observe(adapter, ': keep-alive\n\n').error).toEqual(invalid('no event'));
        expect(observe(adapter, `data: ${SECRET}\n\ndata: nonsense\n\n`).error).toEqual(invalid('no event with JSON data'));
        expect(observe(adapter, frame('[DONE]')).error).toEqual(invalid('no event with JSON data'));
        expect(observe(adapter, `<html>${SECRET}</html>`).error).toEqual(invalid('no event'));
        expect(observe(adapter, `data: {"truncated": "${SECRET}`).error).toEqual(invalid('no event with JSON data'));
        const wrong = observe(adapter, frame({ hello: SECRET }) + frame([1, 2]) + frame('[DONE]'));
        expect(wrong.error).toEqual(invalid(`no ${event}`));
        expect(wrong.stream).toMatchObject({ malformedEvents: 1 });
        expect(JSON.stringify(wrong)).not.toContain(SECRET);
      });

      it('judges nothing in a stream cut off before its end', () => {
        expect(observe(adapter, '', true).error).toBeUndefined();
        expect(observe(adapter, 'data: nonsense\n\n', true).error).toBeUndefined();
      });
    });
  }

  it("keeps the upstream's own error event as the error of a stream that holds nothing else", () => {
    const openai = observe(openAIChatAdapter, frame({ error: { type: 'server_error', message: 'boom' } }));
    expect(openai.error).toEqual({ type: 'server_error', message: 'boom' });
    const anthropic = observe(anthropicMessagesAdapter, frame({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'));
    expect(anthropic.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    const responses = observe(openAIResponsesAdapter, frame({ type: 'error', code: 'server_error', message: 'boom' }, 'error'));
    expect(responses.error).toEqual({ code: 'server_error', message: 'boom' });
  });

  it('needs message_start in an Anthropic stream: pings and deltas alone are not a message', () => {
    const sse =
      frame({ type: 'ping' }, 'ping') +
      frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } }, 'content_block_delta') +
      frame({ type: 'message_stop' }, 'message_stop');
    expect(observe(anthropicMessagesAdapter, sse).error).toEqual({
      type: 'invalid_response',
      reason: 'stream is not a valid Anthropic message stream: no message_start event',
    });
  });

  it('never accepts a stream from the embeddings endpoint', () => {
    expect(observe(openAIEmbeddingsAdapter, frame({ object: 'list', data: [] })).error).toEqual({
      type: 'invalid_response',
      reason: 'stream is not a valid OpenAI embeddings answer: embeddings are never streamed',
    });
  });

  it('becomes a record whose error is the reason alone (the HTTP status is recorded beside it)', () => {
    const facts = observe(anthropicMessagesAdapter, `data: ${SECRET}\n\n`);
    const record = toRecordInput(
      normaliseCall(anthropicMessagesAdapter, anthropicMessagesAdapter.describeRequest({ model: 'claude-haiku-4-5', messages: [], stream: true }), facts),
    );
    expect(record).toMatchObject({ error: 'stream is not a valid Anthropic message stream: no event with JSON data', errorType: 'invalid_response' });
    expect(record.content).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(SECRET);
  });
});

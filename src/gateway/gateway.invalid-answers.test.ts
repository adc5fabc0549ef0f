import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_INVALID_TEXT } from '../providers/simulated/fake-invalid.js';
import type { Envelope } from '../record/types.js';
import { startHarness, type Harness, type HarnessOptions } from './test-support/harness.js';

// An upstream that answers 200 with something that is not an answer of the wire format: the
// client gets the upstream's bytes exactly, and the call is recorded as an error
// (`invalid_response`) whose reason names what was wrong and quotes nothing of the body.

const KEY = 'sk-client-0123456789abcdefghijklmnop';

interface Endpoint {
  path: string;
  endpoint: string;
  provider: 'openai' | 'anthropic';
  body: Record<string, unknown>;
  /** The answer's name in the reason, and the stream's with the event it cannot lack (undefined: the endpoint never streams). */
  answer: string;
  stream?: { name: string; event: string };
}

const ENDPOINTS: Endpoint[] = [
  {
    path: '/v1/chat/completions',
    endpoint: 'chat.completions',
    provider: 'openai',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello.' }] },
    answer: 'OpenAI chat completion',
    stream: { name: 'OpenAI chat completion stream', event: 'chat.completion.chunk event' },
  },
  {
    path: '/v1/responses',
    endpoint: 'responses',
    provider: 'openai',
    body: { model: 'gpt-4o', input: 'Say hello.' },
    answer: 'OpenAI Responses API response',
    stream: { name: 'OpenAI Responses API stream', event: 'response.* event' },
  },
  {
    path: '/v1/completions',
    endpoint: 'completions',
    provider: 'openai',
    body: { model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.' },
    answer: 'OpenAI completion',
    stream: { name: 'OpenAI completion stream', event: 'text_completion event' },
  },
  {
    path: '/v1/embeddings',
    endpoint: 'embeddings',
    provider: 'openai',
    body: { model: 'text-embedding-3-small', input: 'Say hello.' },
    answer: 'OpenAI embedding list',
  },
  {
    path: '/v1/messages',
    endpoint: 'messages',
    provider: 'anthropic',
    body: { model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Say hello.' }] },
    answer: 'Anthropic message',
    stream: { name: 'Anthropic message stream', event: 'message_start event' },
  },
];

/** Plain answers: each invalid scenario and the reason recorded for it. */
const PLAIN: Array<[scenario: string, reason: (e: Endpoint) => string]> = [
  ['garbage', () => 'not JSON'],
  ['html', () => 'not JSON'],
  ['truncated', () => 'not JSON'],
  ['empty', () => 'empty body'],
  ['wrong-shape', (e) => `JSON without ${REQUIRES[e.endpoint]}`],
];
const REQUIRES: Record<string, string> = {
  'chat.completions': '"object": "chat.completion" or a "choices" array',
  responses: '"object": "response" or an "output" array',
  completions: '"object": "text_completion" or a "choices" array',
  embeddings: 'a "data" array',
  messages: '"type": "message" or a "content" array',
};

/** Streamed answers: each invalid scenario and the reason recorded for it (an HTML page is a plain answer, whatever was asked). */
const STREAMED: Array<[scenario: string, error: (e: Endpoint) => string]> = [
  ['garbage', (e) => `stream is not a valid ${e.stream!.name}: no event with JSON data`],
  ['truncated', (e) => `stream is not a valid ${e.stream!.name}: no event with JSON data`],
  ['empty', (e) => `stream is not a valid ${e.stream!.name}: no event`],
  ['wrong-shape', (e) => `stream is not a valid ${e.stream!.name}: no ${e.stream!.event}`],
  ['html', (e) => `HTTP 200 answer is not a valid ${e.answer}: not JSON`],
];

/** Calls the gateway with plain fetch, so that the bytes the client gets can be compared. */
async function call(h: Harness, e: Endpoint, scenario: string, stream: boolean) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-fake-scenario': scenario };
  if (e.provider === 'anthropic') Object.assign(headers, { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' });
  else headers.authorization = `Bearer ${KEY}`;
  const response = await fetch(`${h.gateway.url}${e.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ ...e.body, ...(stream ? { stream: true } : {}) }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const sent = h.fake.requests.at(-1)!;
  expect(sent.scenario).toBe(scenario);
  return { response, bytes, sent, record: (await h.callFor(response.headers.get('x-request-id')!)).envelope };
}

function expectInvalid(record: Envelope, e: Endpoint, error: string): void {
  expect(record).toMatchObject({
    kind: 'llm.call',
    component: 'gateway',
    provider: e.provider,
    endpoint: e.endpoint,
    model: e.body.model,
    status: 'error',
    httpStatus: 200,
    errorType: 'invalid_response',
    error,
  });
  expect(record.errorCode).toBeUndefined();
  // Hash-only: nothing of the body, not even a digest of an error message (there is none).
  expect(record.digests?.error).toBeUndefined();
  expect(record.digests?.output).toBeUndefined();
  expect(JSON.stringify(record)).not.toContain(FAKE_INVALID_TEXT);
}

/**
 * What the client must get: the upstream's bytes. `guarded`: a stream relayed through the response
 * policies' guard, which reads the stream as UTF-8 text and passes each event's text on unchanged:
 * bytes that are not UTF-8 at all reach the client as U+FFFD, as any SSE client decodes them.
 */
function upstreamBytes(sent: { responseBytes?: Buffer; responseBody: string }, guarded = false): Buffer {
  if (sent.responseBytes === undefined) return Buffer.from(sent.responseBody);
  return guarded ? Buffer.from(sent.responseBytes.toString('utf8')) : sent.responseBytes;
}

function suite(title: string, options: HarnessOptions, guarded = false) {
  describe(title, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(options);
    });
    afterAll(() => h.close());

    for (const e of ENDPOINTS) {
      describe(e.endpoint, () => {
        for (const [scenario, reason] of PLAIN) {
          it(`relays a 200 ${scenario} answer byte for byte and records it as an invalid answer`, async () => {
            const { response, bytes, sent, record } = await call(h, e, scenario, false);
            expect(response.status).toBe(200);
            expect(bytes.equals(upstreamBytes(sent))).toBe(true);
            expectInvalid(record, e, `HTTP 200 answer is not a valid ${e.answer}: ${reason(e)}`);
          });
        }

        if (e.stream) {
          for (const [scenario, error] of STREAMED) {
            it(`relays a streamed ${scenario} answer byte for byte and records it as an invalid answer`, async () => {
              const { response, bytes, sent, record } = await call(h, e, scenario, true);
              expect(response.status).toBe(200);
              expect(response.headers.get('content-type')).toBe(scenario === 'html' ? 'text/html; charset=utf-8' : 'text/event-stream; charset=utf-8');
              expect(bytes.equals(upstreamBytes(sent, guarded && scenario !== 'html'))).toBe(true);
              expectInvalid(record, e, error(e));
            });
          }
        } else {
          it('records an event stream from an endpoint that never streams as an invalid answer, and relays it', async () => {
            const { bytes, sent, record } = await call(h, e, 'wrong-shape', true);
            expect(sent.responseBody).toMatch(/^data: /);
            expect(bytes.equals(Buffer.from(sent.responseBody))).toBe(true);
            expectInvalid(record, e, 'stream is not a valid OpenAI embeddings answer: embeddings are never streamed');
          });
        }
      });
    }

    it('still records valid answers as successes, plain and streamed', async () => {
      for (const e of ENDPOINTS) {
        for (const stream of e.stream ? [false, true] : [false]) {
          const { response, record } = await call(h, e, 'answer', stream);
          expect(response.status).toBe(200);
          expect(record).toMatchObject({ status: 'success', httpStatus: 200, endpoint: e.endpoint });
          expect(record.error).toBeUndefined();
          expect(record.errorType).toBeUndefined();
        }
      }
      expect(await h.ledger.verify()).toMatchObject({ ok: true });
    });
  });
}

suite('gateway, batched durability: invalid answers', {});
// Sync holds a plain answer (and a stream's end) until its record is committed: a different relay path.
suite('gateway, sync durability: invalid answers', { gateway: { durability: 'sync' } });
// A response policy reads plain answers before they go (and relays streams through its guard).
suite(
  'gateway, under a response policy: invalid answers',
  {
    gateway: {
      policies: [
        { name: 'no-ledger-talk', type: 'pattern', patterns: [{ name: 'l-word', regex: 'never-in-an-answer' }], checkpoints: ['response'], action: 'block' },
      ],
    },
  },
  true,
);

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_INVALID_TEXT } from '../providers/simulated/fake-invalid.js';
import { CLIENT_KEY, scenario, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

// The official SDKs, audited, against an upstream that answers 200 with something that is not an
// answer of the wire format. Whatever the SDK does with it (returns it as it is, or throws while
// parsing it), the audited client does the same, `asResponse()` gives the upstream's bytes, and
// the record is an error (`invalid_response`) whose reason quotes nothing of the body.

let h: SdkHarness;
beforeAll(async () => {
  h = await startSdkHarness();
});
afterAll(() => h.close());

type Scenario = 'garbage' | 'html' | 'empty' | 'wrong-shape' | 'truncated';
const SCENARIOS: Scenario[] = ['garbage', 'html', 'empty', 'wrong-shape', 'truncated'];

/** A client of either SDK, audited or not. */
interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
}

interface Case {
  endpoint: string;
  answer: string;
  requires: string;
  stream?: { name: string; event: string };
  /** The call, returning the SDK's promise (an `APIPromise`, so `asResponse()` works). */
  call(clients: Clients, scenario: Scenario, stream: boolean): PromiseLike<unknown> & { asResponse(): Promise<Response> };
}

const messages = [{ role: 'user' as const, content: 'Say hello.' }];

const CASES: Case[] = [
  {
    endpoint: 'chat.completions',
    answer: 'OpenAI chat completion',
    requires: '"object": "chat.completion" or a "choices" array',
    stream: { name: 'OpenAI chat completion stream', event: 'chat.completion.chunk event' },
    call: ({ openai }, name, stream) => openai.chat.completions.create({ model: 'gpt-4o', messages, stream }, scenario(name)),
  },
  {
    endpoint: 'responses',
    answer: 'OpenAI Responses API response',
    requires: '"object": "response" or an "output" array',
    stream: { name: 'OpenAI Responses API stream', event: 'response.* event' },
    call: ({ openai }, name, stream) => openai.responses.create({ model: 'gpt-4o', input: 'Say hello.', stream }, scenario(name)),
  },
  {
    endpoint: 'completions',
    answer: 'OpenAI completion',
    requires: '"object": "text_completion" or a "choices" array',
    stream: { name: 'OpenAI completion stream', event: 'text_completion event' },
    call: ({ openai }, name, stream) => openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.', stream }, scenario(name)),
  },
  {
    endpoint: 'embeddings',
    answer: 'OpenAI embedding list',
    requires: 'a "data" array',
    call: ({ openai }, name) => openai.embeddings.create({ model: 'text-embedding-3-small', input: 'Say hello.', encoding_format: 'float' }, scenario(name)),
  },
  {
    endpoint: 'messages',
    answer: 'Anthropic message',
    requires: '"type": "message" or a "content" array',
    stream: { name: 'Anthropic message stream', event: 'message_start event' },
    call: ({ anthropic }, name, stream) => anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, messages, stream }, scenario(name)),
  },
];

function plainError(c: Case, name: Scenario): string {
  const why = name === 'empty' ? 'empty body' : name === 'wrong-shape' ? `JSON without ${c.requires}` : 'not JSON';
  return `HTTP 200 answer is not a valid ${c.answer}: ${why}`;
}

function streamError(c: Case, name: Scenario): string {
  const { name: stream, event } = c.stream!;
  if (name === 'html') return plainError(c, name);
  if (name === 'empty') return `stream is not a valid ${stream}: no event`;
  if (name === 'wrong-shape') return `stream is not a valid ${stream}: no ${event}`;
  return `stream is not a valid ${stream}: no event with JSON data`;
}

/** What the caller ends up with: the value (a stream drained to a list), or the class of what was thrown. */
async function outcome(run: () => Promise<unknown>): Promise<{ value?: unknown; thrown?: string }> {
  try {
    const value = await run();
    if (isAsyncIterable(value)) {
      const events: unknown[] = [];
      for await (const event of value) events.push(event);
      return { value: events };
    }
    return { value };
  } catch (error) {
    return { thrown: (error as Error).constructor.name };
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Unaudited clients, to compare with: the SDKs as they are. */
function plainClients(): Clients {
  return {
    openai: new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0, logLevel: 'off' }),
    anthropic: new Anthropic({ apiKey: CLIENT_KEY, baseURL: h.fake.url, maxRetries: 0, logLevel: 'off' }),
  };
}

function auditedClients(): Clients {
  return { openai: h.openai({}, { logLevel: 'off' }), anthropic: h.anthropic({}, { logLevel: 'off' }) };
}

async function expectInvalidRecord(client: object, c: Case, error: string) {
  const record = await h.lastCall(client);
  expect(record).toMatchObject({ component: 'sdk', endpoint: c.endpoint, status: 'error', httpStatus: 200, errorType: 'invalid_response', error });
  expect(record.errorCode).toBeUndefined();
  expect(record.digests?.error).toBeUndefined();
  expect(record.digests?.output).toBeUndefined();
  expect(JSON.stringify(record)).not.toContain(FAKE_INVALID_TEXT);
  expect(await h.revealed(record)).not.toHaveProperty('error');
}

for (const c of CASES) {
  describe(`${c.endpoint}: answers that are not of the wire format`, () => {
    for (const stream of c.stream ? [false, true] : [false]) {
      for (const name of SCENARIOS) {
        const error = stream ? streamError(c, name) : plainError(c, name);
        const title = `${stream ? 'streamed' : 'plain'} ${name}`;

        it(`${title}: the caller gets what the SDK alone gives, and the record is invalid_response`, async () => {
          const audited = auditedClients();
          const seen = await outcome(() => Promise.resolve(c.call(audited, name, stream)));
          expect(seen).toEqual(await outcome(() => Promise.resolve(c.call(plainClients(), name, stream))));
          // Both kinds of outcome occur: the SDKs return an HTML page or foreign JSON as they are, and throw on JSON cut short.
          if (name === 'truncated' && !stream) expect(seen.thrown).toBe('SyntaxError');
          if (name === 'wrong-shape' && !stream) expect(seen.value).toMatchObject({ hello: FAKE_INVALID_TEXT });
          await expectInvalidRecord(c.endpoint === 'messages' ? audited.anthropic : audited.openai, c, error);
        });

        it(`${title}: asResponse() gives the upstream's bytes, and the record is invalid_response`, async () => {
          const audited = auditedClients();
          const response = await c.call(audited, name, stream).asResponse();
          const bytes = Buffer.from(await response.arrayBuffer());
          const sent = h.fake.requests.at(-1)!;
          expect(bytes.equals(sent.responseBytes ?? Buffer.from(sent.responseBody))).toBe(true);
          await expectInvalidRecord(c.endpoint === 'messages' ? audited.anthropic : audited.openai, c, error);
        });
      }
    }
  });
}

describe('auditAnthropic: the messages.stream() helper', () => {
  for (const name of SCENARIOS) {
    it(`${name}: finalMessage() fails as it does unaudited, and the record is invalid_response`, async () => {
      const c = CASES.find((each) => each.endpoint === 'messages')!;
      const body = { model: 'claude-sonnet-4-6', max_tokens: 100, messages };
      const audited = auditedClients().anthropic;
      const seen = await outcome(() => audited.messages.stream(body, scenario(name)).finalMessage());
      expect(seen).toEqual(await outcome(() => plainClients().anthropic.messages.stream(body, scenario(name)).finalMessage()));
      expect(seen.thrown).toBeDefined();
      await expectInvalidRecord(audited, c, streamError(c, name));
    });
  }
});

describe('a stream the SDK stops at data it cannot parse', () => {
  it('is recorded as invalid_response, not as an abort: the OpenAI SDK throws and aborts its own request', async () => {
    const client = h.openai({}, { logLevel: 'off' });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('garbage'));
    await expect(async () => {
      for await (const chunk of stream) void chunk;
    }).rejects.toThrow(/malformed server-sent event JSON/);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      status: 'error',
      errorType: 'invalid_response',
      error: 'stream is not a valid OpenAI chat completion stream: no event with JSON data',
    });
  });

  it('is still an abort when the caller aborted it', async () => {
    const client = h.openai({}, { logLevel: 'off' });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, { ...scenario('garbage'), signal: controller.signal });
    controller.abort();
    await outcome(async () => {
      for await (const chunk of stream) void chunk;
    });
    expect(await h.lastCall(client)).toMatchObject({ status: 'aborted' });
  });

  it('leaves a valid stream the caller left with break as aborted', async () => {
    const client = h.openai();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }, scenario('stall'));
    for await (const chunk of stream) {
      void chunk;
      break;
    }
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'aborted' });
    expect(record.errorType).toBeUndefined();
  });
});

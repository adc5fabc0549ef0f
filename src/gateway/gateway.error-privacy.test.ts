import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../record/types.js';
import { scenario, startHarness, type Harness } from './test-support/harness.js';
import { auditorViews, capturePrinted, filesContaining, type Printed } from './test-support/leaks.js';

/*
 * Providers and proxies quote the offending input when they reject a request (`Invalid
 * 'messages[1].content': ...`). The client must get that answer exactly as sent, but the ledger
 * keeps it only as capture says: with hash-only capture the record holds the error's status, type,
 * code and a digest of its message, and the prompt is in no file, record or printed line. The
 * fake upstream's `quote-400` scenario answers 400 with the request's text in its message.
 */

/** Unique to this run, and letters only, so no PII detector touches it and a hit can only be a leak. */
const MARKER = `planted${randomBytes(8)
  .toString('hex')
  .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;
const PROMPT = `Summarise the file of ${MARKER} for the board.`;
const KEK = randomBytes(32).toString('hex');

const messages = [{ role: 'user' as const, content: PROMPT }];

/** The upstream's answer to the last request it received: status, exact body, and its error message. */
function lastUpstreamAnswer(h: Harness): { status: number; body: string; message: string } {
  const sent = h.fake.requests.at(-1)!;
  const message = (JSON.parse(sent.responseBody) as { error: { message: string } }).error.message;
  expect(message).toContain(MARKER);
  return { status: sent.status!, body: sent.responseBody, message };
}

async function recordOf(h: Harness, requestId: string | null | undefined): Promise<Envelope> {
  expect(requestId).toBeTruthy();
  return (await h.callFor(requestId!)).envelope;
}

describe('gateway, hash-only capture: an upstream error that quotes the prompt', () => {
  let h: Harness;
  let printed: Printed;
  beforeAll(async () => {
    printed = capturePrinted();
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
    printed.restore();
  });

  it('OpenAI chat: the client gets the 400 as sent; the record keeps status, type, code and a digest of the message', async () => {
    const error = (await h.openai.chat.completions
      .create({ model: 'gpt-4o', messages }, scenario('quote-400'))
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const upstream = lastUpstreamAnswer(h);
    expect(JSON.stringify(error.error)).toBe(JSON.stringify((JSON.parse(upstream.body) as { error: unknown }).error));
    expect(error.message).toContain(MARKER);

    const record = await recordOf(h, error.headers?.get('x-request-id'));
    expect(record).toMatchObject({
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error (invalid_value)',
      errorType: 'invalid_request_error',
      errorCode: 'invalid_value',
      capture: { prompts: 'hash', responses: 'hash' },
    });
    expect(record.digests?.error).toBe(h.ledger.contentDigest(upstream.message));
    expect(record.digests?.input).toBe(h.ledger.contentDigest(`user: ${PROMPT}`));
    expect(record.capture?.fields).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(MARKER);
  });

  it('OpenAI chat on the wire: the body the client reads is byte for byte the upstream’s', async () => {
    const response = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-client-0123456789abcdefghijklmnop', 'content-type': 'application/json', 'x-fake-scenario': 'quote-400' },
      body: JSON.stringify({ model: 'gpt-4o', messages }),
    });
    const body = await response.text();
    const upstream = lastUpstreamAnswer(h);
    expect(response.status).toBe(400);
    expect(body).toBe(upstream.body);
    expect(await recordOf(h, response.headers.get('x-request-id'))).toMatchObject({
      httpStatus: 400,
      errorType: 'invalid_request_error',
      digests: { error: h.ledger.contentDigest(upstream.message) },
    });
  });

  it('OpenAI Responses: the same', async () => {
    const error = (await h.openai.responses
      .create({ model: 'gpt-4o', input: PROMPT }, scenario('quote-400'))
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const upstream = lastUpstreamAnswer(h);
    const record = await recordOf(h, error.headers?.get('x-request-id'));
    expect(record).toMatchObject({ endpoint: 'responses', status: 'error', httpStatus: 400, errorType: 'invalid_request_error', errorCode: 'invalid_value' });
    expect(record.digests?.error).toBe(h.ledger.contentDigest(upstream.message));
    expect(JSON.stringify(record)).not.toContain(MARKER);
  });

  it('Anthropic messages: the client gets the 400 as sent; the record keeps status, type and a digest of the message', async () => {
    const error = (await h.anthropic.messages
      .create({ model: 'claude-sonnet-4', max_tokens: 64, messages }, scenario('quote-400'))
      .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const upstream = lastUpstreamAnswer(h);
    expect(JSON.stringify(error.error)).toBe(JSON.stringify(JSON.parse(upstream.body)));
    expect(error.message).toContain(MARKER);

    const record = await recordOf(h, error.headers?.get('x-request-id'));
    expect(record).toMatchObject({
      provider: 'anthropic',
      endpoint: 'messages',
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error',
      errorType: 'invalid_request_error',
    });
    expect(record.errorCode).toBeUndefined();
    expect(record.digests?.error).toBe(h.ledger.contentDigest(upstream.message));
    expect(JSON.stringify(record)).not.toContain(MARKER);
  });

  it('an error event inside a stream: its message is digested too, never kept as text', async () => {
    const { data: stream, response } = await h.openai.chat.completions
      .create({ model: 'gpt-4o', messages, stream: true }, scenario('stream-error'))
      .withResponse();
    await expect(async () => {
      for await (const _chunk of stream) {
        // until the error event
      }
    }).rejects.toThrow(/server had an error/);
    const record = await recordOf(h, response.headers.get('x-request-id'));
    const message = 'The server had an error while processing your request. Sorry about that!';
    expect(record).toMatchObject({
      status: 'error',
      httpStatus: 200,
      error: 'server_error',
      errorType: 'server_error',
      digests: { error: h.ledger.contentDigest(message) },
    });
    expect(JSON.stringify(record)).not.toContain('server had an error');
  });

  it('afterwards the prompt is in no file of the ledger, no record an auditor can read, and nothing printed', async () => {
    await h.ledger.flush();
    expect(filesContaining(h.dir, MARKER)).toEqual([]);
    const views = await auditorViews(h.ledger);
    expect(views).toContain('invalid_request_error');
    expect(views).not.toContain(MARKER);
    expect(h.logs.join('\n')).not.toContain(MARKER);
    expect(printed.text()).not.toContain(MARKER);

    // Closed: the WAL is folded into the database, the final checkpoint written.
    await h.close();
    expect(filesContaining(h.dir, MARKER)).toEqual([]);
    expect(printed.text()).not.toContain(MARKER);
  });
});

describe.each([
  ['encrypted', { responses: 'encrypted' }],
  ['plaintext', { responses: 'plaintext', allow_plaintext: true }],
] as const)('gateway, responses captured %s: the error message is content beside the envelope', (mode, capture) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ capture, env: { LLM_LEDGER_KEK: KEK } });
  });
  afterAll(() => h.close());

  it.each([
    ['OpenAI', (g: Harness) => g.openai.chat.completions.create({ model: 'gpt-4o', messages }, scenario('quote-400'))],
    ['Anthropic', (g: Harness) => g.anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 64, messages }, scenario('quote-400'))],
  ] as const)('%s: the message is not in the envelope, and reveal gives it back', async (_format, call) => {
    const error = (await call(h).catch((caught: unknown) => caught)) as { status: number; headers?: Headers };
    expect(error.status).toBe(400);
    const upstream = lastUpstreamAnswer(h);
    const record = await recordOf(h, error.headers?.get('x-request-id'));
    expect(record).toMatchObject({ httpStatus: 400, errorType: 'invalid_request_error', digests: { error: h.ledger.contentDigest(upstream.message) } });
    expect(record.capture?.fields?.error).toEqual({ mode, bytes: Buffer.byteLength(upstream.message), redactions: 0, truncated: false });
    expect(JSON.stringify(record)).not.toContain(MARKER);
    expect(await auditorViews(h.ledger)).not.toContain(MARKER);
    if (mode === 'encrypted') expect(filesContaining(h.dir, MARKER)).toEqual([]);

    const { content } = await h.ledger.reveal(record.id, { actor: 'auditor', reason: 'a rejected request' });
    expect(content.error).toBe(upstream.message);
    expect(content.input).toBeUndefined();
  });
});

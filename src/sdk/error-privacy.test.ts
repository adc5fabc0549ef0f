import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditorViews, capturePrinted, filesContaining, type Printed } from '../gateway/test-support/leaks.js';
import { scenario, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

/*
 * The SDK wrappers meet an upstream that quotes the prompt in its 400 as the SDK's own error:
 * `BadRequestError: 400 Invalid request: ... <prompt> ...`. That error reaches the caller
 * unchanged, but with hash-only capture the record keeps only status, type, code and a digest of
 * the message, and the prompt is in no file, record or printed line.
 */

/** Unique to this run, letters only (no PII detector touches it). */
const MARKER = `planted${randomBytes(8)
  .toString('hex')
  .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;
const messages = [{ role: 'user' as const, content: `Draft the letter to ${MARKER} about the merger.` }];

function upstreamMessage(h: SdkHarness): string {
  const message = (JSON.parse(h.fake.requests.at(-1)!.responseBody) as { error: { message: string } }).error.message;
  expect(message).toContain(MARKER);
  return message;
}

describe('SDK wrappers, hash-only capture: an upstream error that quotes the prompt', () => {
  let h: SdkHarness;
  let printed: Printed;
  beforeAll(async () => {
    printed = capturePrinted();
    h = await startSdkHarness({ capture: {} });
  });
  afterAll(async () => {
    await h?.close();
    printed.restore();
  });

  it('auditOpenAI: the SDK error reaches the caller unchanged; the record keeps status, type, code and a digest', async () => {
    const client = h.openai();
    const error = (await client.chat.completions.create({ model: 'gpt-4o', messages }, scenario('quote-400')).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toContain(MARKER);
    const message = upstreamMessage(h);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      component: 'sdk',
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error (invalid_value)',
      errorType: 'invalid_request_error',
      errorCode: 'invalid_value',
      capture: { prompts: 'hash', responses: 'hash' },
    });
    expect(record.digests?.error).toBe(h.ledger.contentDigest(message));
    expect(record.capture?.fields).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(MARKER);
    expect(h.ledgerErrors).toEqual([]);
  });

  it('auditAnthropic: the same', async () => {
    const client = h.anthropic();
    const error = (await client.messages
      .create({ model: 'claude-sonnet-4', max_tokens: 64, messages }, scenario('quote-400'))
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.message).toContain(MARKER);
    const message = upstreamMessage(h);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      component: 'sdk',
      provider: 'anthropic',
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error',
      errorType: 'invalid_request_error',
    });
    expect(record.digests?.error).toBe(h.ledger.contentDigest(message));
    expect(JSON.stringify(record)).not.toContain(MARKER);
    expect(h.ledgerErrors).toEqual([]);
  });

  it('afterwards the prompt is in no file of the ledger, no record an auditor can read, and nothing printed', async () => {
    await h.ledger.flush();
    expect(filesContaining(h.dir, MARKER)).toEqual([]);
    const views = await auditorViews(h.ledger);
    expect(views).toContain('invalid_request_error');
    expect(views).not.toContain(MARKER);
    expect(printed.text()).not.toContain(MARKER);
    await h.close();
    expect(filesContaining(h.dir, MARKER)).toEqual([]);
  });
});

describe('SDK wrappers, responses captured encrypted: the error message is content beside the envelope', () => {
  let h: SdkHarness;
  beforeAll(async () => {
    h = await startSdkHarness({ capture: { responses: 'encrypted' }, env: { LLM_LEDGER_KEK: randomBytes(32).toString('hex') } });
  });
  afterAll(() => h.close());

  it('auditOpenAI: the message is sealed, not in the envelope or any file, and reveal gives it back', async () => {
    const client = h.openai();
    await client.chat.completions.create({ model: 'gpt-4o', messages }, scenario('quote-400')).catch(() => undefined);
    const message = upstreamMessage(h);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      httpStatus: 400,
      errorType: 'invalid_request_error',
      capture: { fields: { error: { mode: 'encrypted', bytes: Buffer.byteLength(message) } } },
    });
    expect(JSON.stringify(record)).not.toContain(MARKER);
    expect(filesContaining(h.dir, MARKER)).toEqual([]);
    expect((await h.revealed(record)).error).toBe(message);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultCapturePolicy } from '../capture/default-policy.js';
import { Digester } from '../crypto/digest.js';
import { openAIChatAdapter } from '../providers/openai-chat.js';
import { createPricing } from '../providers/pricing.js';
import { sealEnvelope } from '../record/envelope.js';
import { parseRecordInput } from '../record/schema.js';
import type { RecordInput } from '../record/types.js';
import { sdkCallRecord, type FinishedCall } from './call-record.js';
import type { ObservedAnswer } from './observe-answer.js';

/*
 * Errors the SDK throws without an error answer the wrapper could read: its class is a fact, its
 * message is not trusted. The SDKs quote the answer's body in an APIError's message, and a
 * helper that fails to read the model's JSON quotes the JSON. Only the fixed wording of the
 * connection errors is kept as words.
 */

// Recognised by class name, as the wrapper recognises the SDKs' own classes.
class BadRequestError extends Error {
  readonly status = 400;
}
class APIConnectionError extends Error {}

const PLANTED = 'planted-0f3a9c';
const digester = new Digester('hmac-sha256', Buffer.alloc(32, 5));
const ctx = { capture: defaultCapturePolicy(digester), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };
const params = { model: 'gpt-4o', messages: [{ role: 'user', content: `About ${PLANTED}` }] };

function recordOf(thrown: unknown, answer?: ObservedAnswer): RecordInput {
  const call: FinishedCall = {
    adapter: openAIChatAdapter,
    params,
    thrown: { error: thrown },
    aborted: false,
    attempts: 1,
    latencyMs: 12,
    ...(answer ? { answer } : {}),
  };
  return sdkCallRecord(call, { provider: 'openai' }, createPricing());
}

/** The envelope a hash-only ledger would commit for the record. */
const envelopeOf = (input: RecordInput) => sealEnvelope(parseRecordInput(input), ctx);

describe('sdkCallRecord: an error thrown without an error answer', () => {
  it('an SDK error quoting the upstream body: its class and status in the envelope, its message only as content.error', () => {
    const message = `400 Invalid request: [{"role":"user","content":"About ${PLANTED}"}] is not accepted here.`;
    const input = recordOf(new BadRequestError(message));
    expect(input).toMatchObject({ status: 'error', httpStatus: 400, error: 'BadRequestError', errorType: 'BadRequestError', content: { error: message } });

    const { envelope, canonical, content } = envelopeOf(input);
    expect(canonical).not.toContain(PLANTED);
    expect(envelope.digests?.error).toBe(digester.digest(message));
    expect(content).toBeUndefined();
  });

  it('a helper’s failure after a good answer (the model’s JSON not parsing): the message is digested, not kept', () => {
    const answer: ObservedAnswer = {
      status: 200,
      response: { usage: { inputTokens: 3, outputTokens: 4 }, output: `{"name": "${PLANTED}"` },
      ending: 'complete',
    };
    const message = `Unterminated string in JSON at position 20 (line 1 column 21): "{"name": "${PLANTED}"`;
    const input = recordOf(new SyntaxError(message), answer);
    expect(input).toMatchObject({ status: 'error', httpStatus: 200, error: 'SyntaxError', errorType: 'SyntaxError', content: { error: message } });
    expect(envelopeOf(input).canonical).not.toContain(PLANTED);
  });

  it('a connection failure keeps the SDK’s own fixed wording, which quotes nothing', () => {
    const input = recordOf(new APIConnectionError('Connection error.'));
    expect(input).toMatchObject({ status: 'error', error: 'APIConnectionError: Connection error.', errorType: 'APIConnectionError' });
    expect(input.content?.error).toBeUndefined();
  });

  it('a thrown value that is not an Error is recorded as a failure, with nothing of it', () => {
    const input = recordOf(`a string quoting ${PLANTED}`);
    expect(input.error).toBe('the SDK call failed without an Error object');
    expect(JSON.stringify(input)).not.toContain('a string quoting');
  });
});

import { defaultCapturePolicy } from '../capture/default-policy.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digester } from '../crypto/digest.js';
import { canonicalJson } from './canonical.js';
import { sealEnvelope } from './envelope.js';
import { RecordValidationError } from './errors.js';
import { parseRecordInput } from './schema.js';
import { RECORD_STATUSES, type RecordInput } from './types.js';

const ctx = { capture: defaultCapturePolicy(new Digester('hmac-sha256', Buffer.alloc(32, 9))), limits: { maxMetadataBytes: 8192, maxErrorChars: 64 } };
const word = fc.string({ minLength: 1, maxLength: 20 });
const n = fc.nat({ max: 1_000_000 });

const recordInput = fc.record(
  {
    component: word,
    traceId: word,
    requestId: word,
    user: word,
    tenant: word,
    session: word,
    conversation: word,
    apiKey: fc.string({ minLength: 1, maxLength: 60 }),
    provider: word,
    model: word,
    endpoint: word,
    status: fc.constantFrom(...RECORD_STATUSES),
    httpStatus: fc.integer({ min: 100, max: 599 }),
    error: fc.string({ maxLength: 100 }),
    errorType: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
    errorCode: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
    inputTokens: n,
    outputTokens: n,
    reasoningTokens: n,
    cachedTokens: n,
    latencyMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    ttftMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    costUsd: fc.double({ min: 0, max: 1e3, noNaN: true }),
    safety: fc.record({ passed: fc.boolean(), detectors: fc.array(word), blockReason: fc.string(), alerts: fc.array(fc.string()), sanitized: n }, { requiredKeys: [] }),
    toolsProvided: n,
    toolCalls: n,
    stopReason: word,
    messageCount: n,
    content: fc.record({ system: fc.string(), input: fc.string(), output: fc.string(), error: fc.string() }, { requiredKeys: [] }),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  },
  { requiredKeys: [] },
);

describe('sealEnvelope', () => {
  it('writes exactly the RFC 8785 bytes of the envelope it returns, for any valid record', () => {
    fc.assert(
      fc.property(recordInput, (input) => {
        const { envelope, canonical } = sealEnvelope(parseRecordInput(input as RecordInput), ctx);
        expect(canonical).toBe(canonicalJson(envelope));
        expect(JSON.parse(canonical)).toEqual(JSON.parse(canonicalJson(envelope)));
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps index-like metadata keys in canonical order', () => {
    const { canonical } = sealEnvelope({ metadata: { b: 1, '10': 2, '9': 3, a: 4 } }, ctx);
    expect(canonical).toContain('"metadata":{"10":2,"9":3,"a":4,"b":1}');
  });

  it('refuses text that is not valid Unicode, wherever it is', () => {
    expect(() => sealEnvelope({ model: 'gpt\ud800' }, ctx)).toThrow(RecordValidationError);
    expect(() => sealEnvelope({ user: 'low\udfff half' }, ctx)).toThrow(RecordValidationError);
    expect(() => sealEnvelope({ metadata: { note: ['\udc00'] } }, ctx)).toThrow(/metadata.note\[0\] contains a lone surrogate/);
    expect(sealEnvelope({ model: 'a\\ud800' }, ctx).envelope.model).toBe('a\\ud800');
  });

  it('keeps an error message out of the envelope: its type and code as given, the message only as a digest', () => {
    const message = "Invalid 'messages[0].content': planted-quote-6f2e is not allowed";
    const { envelope, canonical, content } = sealEnvelope(
      parseRecordInput({ httpStatus: 400, error: 'HTTP 400 invalid_request_error', errorType: 'invalid_request_error', errorCode: 'context_length_exceeded', content: { error: message } }),
      ctx,
    );
    expect(envelope).toMatchObject({ status: 'error', httpStatus: 400, error: 'HTTP 400 invalid_request_error', errorType: 'invalid_request_error', errorCode: 'context_length_exceeded' });
    expect(envelope.digests).toEqual({ alg: 'hmac-sha256', error: ctx.capture.digester.digest(message) });
    expect(canonical).not.toContain('planted-quote');
    // The default policy is hash-only: nothing to store beside the envelope either.
    expect(content).toBeUndefined();
  });

  it('refuses an error type or code that is not a short identifier', () => {
    expect(() => parseRecordInput({ errorType: 'invalid request: planted text' })).toThrow(/errorType: must be an identifier/);
    expect(() => parseRecordInput({ errorCode: 'x'.repeat(65) })).toThrow(/errorCode: must be an identifier/);
    expect(() => parseRecordInput({ errorType: '' })).toThrow(RecordValidationError);
    expect(parseRecordInput({ errorType: 'overloaded_error', errorCode: 'rate_limit.tokens-1' })).toBeTruthy();
  });

  it('refuses metadata JSON cannot hold, naming the path', () => {
    expect(() => sealEnvelope({ metadata: { nested: { n: Number.NaN } } }, ctx)).toThrow(/metadata.nested.n is NaN/);
  });
});

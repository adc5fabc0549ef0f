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
    content: fc.record({ system: fc.string(), input: fc.string(), output: fc.string() }, { requiredKeys: [] }),
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

  it('refuses metadata JSON cannot hold, naming the path', () => {
    expect(() => sealEnvelope({ metadata: { nested: { n: Number.NaN } } }, ctx)).toThrow(/metadata.nested.n is NaN/);
  });
});

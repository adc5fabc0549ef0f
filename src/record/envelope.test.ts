import { defaultCapturePolicy } from '../capture/default-policy.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digester } from '../crypto/digest.js';
import { canonicalJson } from './canonical.js';
import { openTestLedger, tempDir } from '../ledger/test-support/fixtures.js';
import { MAX_METADATA_DEPTH, sealEnvelope } from './envelope.js';
import { RecordValidationError } from './errors.js';
import { parseRecordInput } from './schema.js';
import { RECORD_STATUSES, type JsonValue, type RecordInput } from './types.js';

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
    safety: fc.record(
      { passed: fc.boolean(), detectors: fc.array(word), blockReason: fc.string(), alerts: fc.array(fc.string()), sanitized: n },
      { requiredKeys: [] },
    ),
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
    expect(() => sealEnvelope({ metadata: { note: ['\udc00'] } }, ctx)).toThrow(/metadata\.note\[0\]: contains a lone surrogate/);
    expect(sealEnvelope({ model: 'a\\ud800' }, ctx).envelope.model).toBe('a\\ud800');
  });

  it('keeps an error message out of the envelope: its type and code as given, the message only as a digest', () => {
    const message = "Invalid 'messages[0].content': planted-quote-6f2e is not allowed";
    const { envelope, canonical, content } = sealEnvelope(
      parseRecordInput({
        httpStatus: 400,
        error: 'HTTP 400 invalid_request_error',
        errorType: 'invalid_request_error',
        errorCode: 'context_length_exceeded',
        content: { error: message },
      }),
      ctx,
    );
    expect(envelope).toMatchObject({
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error',
      errorType: 'invalid_request_error',
      errorCode: 'context_length_exceeded',
    });
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
    expect(() => sealEnvelope({ metadata: { nested: { n: Number.NaN } } }, ctx)).toThrow(/metadata\.nested\.n: is NaN/);
  });
});

type Metadata = Record<string, JsonValue>;

/** Metadata `levels` objects deep, `metadata` itself being the first: metadata.a.a...a = {leaf: true}. */
function nested(levels: number): Metadata {
  let value: Metadata = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** The one issue a refused record has. */
function issueOf(attempt: () => unknown): { path: string; message: string } {
  try {
    attempt();
  } catch (err) {
    expect(err).toBeInstanceOf(RecordValidationError);
    const { issues } = err as RecordValidationError;
    expect(issues).toHaveLength(1);
    return issues[0]!;
  }
  throw new Error('the record was not refused');
}

describe('circular or deeply nested metadata', () => {
  it('refuses a circular object, naming where the cycle closes and what to do', () => {
    const metadata: Metadata = { app: 'x' };
    metadata.self = metadata;
    expect(issueOf(() => sealEnvelope({ metadata }, ctx))).toEqual({
      path: 'metadata.self',
      message: 'refers back to metadata itself (a circular reference), which JSON cannot represent: pass a copy without the cycle',
    });
    const inner: Metadata = { n: 1 };
    const outer: Metadata & { a: Metadata } = { app: 'x', a: { b: inner } };
    inner.up = outer.a;
    expect(issueOf(() => sealEnvelope({ metadata: outer }, ctx))).toMatchObject({
      path: 'metadata.a.b.up',
      message: expect.stringMatching(/^refers back to metadata\.a \(a circular reference\)/),
    });
  });

  it('refuses a circular array', () => {
    const list: JsonValue[] = [1, 2];
    list.push(list);
    expect(issueOf(() => sealEnvelope({ metadata: { list } }, ctx))).toMatchObject({
      path: 'metadata.list[2]',
      message: expect.stringMatching(/^refers back to metadata\.list \(a circular reference\)/),
    });
    const items: JsonValue[] = [];
    items.push({ items });
    expect(issueOf(() => sealEnvelope({ metadata: { items } }, ctx))).toMatchObject({
      path: 'metadata.items[0].items',
      message: expect.stringMatching(/^refers back to metadata\.items /),
    });
  });

  it(`accepts metadata nested ${MAX_METADATA_DEPTH} levels (objects and arrays alike) and keeps it whole`, () => {
    const { envelope, canonical } = sealEnvelope({ metadata: nested(MAX_METADATA_DEPTH) }, ctx);
    expect(envelope.metadata).toEqual(nested(MAX_METADATA_DEPTH));
    expect(canonical).toBe(canonicalJson(envelope));
    let list: JsonValue = ['leaf'];
    for (let i = 2; i < MAX_METADATA_DEPTH; i++) list = [list];
    expect(sealEnvelope({ metadata: { list } }, ctx).envelope.metadata).toEqual({ list });
  });

  it(`refuses metadata nested deeper than ${MAX_METADATA_DEPTH} levels, naming the path where it goes too deep`, () => {
    const path = `metadata${'.a'.repeat(MAX_METADATA_DEPTH)}`;
    expect(issueOf(() => sealEnvelope({ metadata: nested(MAX_METADATA_DEPTH + 1) }, ctx))).toEqual({
      path,
      message: `is nested too deep: objects and arrays may nest ${MAX_METADATA_DEPTH} levels, metadata itself being the first; flatten it, or pass the deeper part as a JSON string`,
    });
    // Far deeper than the stack allows (which threw a bare RangeError before): the same error, at the same place.
    expect(issueOf(() => sealEnvelope({ metadata: nested(200_000) }, ctx)).path).toBe(path);
    let list: JsonValue = ['leaf'];
    for (let i = 1; i < MAX_METADATA_DEPTH; i++) list = [list];
    expect(issueOf(() => sealEnvelope({ metadata: { list } }, ctx)).path).toBe(`metadata.list${'[0]'.repeat(MAX_METADATA_DEPTH - 1)}`);
  });

  it('stores nothing of a refused record, and the ledger goes on recording', async () => {
    const ledger = await openTestLedger(tempDir());
    try {
      await ledger.record({ model: 'before' });
      const circular: Metadata = {};
      circular.me = circular;
      await expect(ledger.record({ model: 'circular', metadata: circular })).rejects.toThrow(/^Invalid record: metadata\.me: refers back to metadata itself/);
      await expect(ledger.record({ model: 'deep', metadata: nested(100_000) })).rejects.toBeInstanceOf(RecordValidationError);
      await ledger.record({ model: 'after' });
      expect(await ledger.size()).toBe(2);
      const models: string[] = [];
      for await (const batch of ledger.records({})) models.push(...batch.map((r) => r.envelope.model ?? ''));
      expect(models).toEqual(['before', 'after']);
      expect((await ledger.verify()).ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});

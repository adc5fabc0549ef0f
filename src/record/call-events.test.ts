import { describe, expect, it } from 'vitest';
import { defaultCapturePolicy } from '../capture/default-policy.js';
import { Digester } from '../crypto/digest.js';
import { eventEnvelope, hasEventType, indexedEventTypes, timelineOf } from './call-events.js';
import { sealEnvelope } from './envelope.js';
import { RecordValidationError } from './errors.js';
import { parseRecordInput } from './schema.js';
import type { CallEvent, Envelope, RecordInput } from './types.js';

const ctx = { capture: defaultCapturePolicy(new Digester('sha256')), limits: { maxMetadataBytes: 8192, maxErrorChars: 40 } };

/** A governed gateway call's events as the gateway hands them over: every fact each one states. */
const EVENTS: CallEvent[] = [
  { type: 'request_received', at: 0.4, component: 'gateway', endpoint: 'chat.completions', model: 'gpt-4o', messageCount: 2, metadata: { stream: false } },
  { type: 'policy_evaluation_start', at: 0.6, component: 'policy', metadata: { checkpoint: 'request', policies: ['pii', 'models'] } },
  {
    type: 'policy_evaluated',
    at: 0.9,
    component: 'policy',
    latencyMs: 0.2,
    safety: { passed: true, detectors: ['email'] },
    metadata: { policy: 'pii', type: 'pii', checkpoint: 'request', outcome: 'REDACT', findings: { email: 2 } },
  },
  {
    type: 'policy_evaluated',
    at: 1.1,
    component: 'policy',
    latencyMs: 0.1,
    safety: { passed: false },
    metadata: { policy: 'models', type: 'models', checkpoint: 'request', outcome: 'BLOCK' },
  },
  {
    type: 'policy_evaluation_complete',
    at: 1.2,
    component: 'policy',
    latencyMs: 0.5,
    metadata: { checkpoint: 'request', outcome: 'BLOCK', policiesEvaluated: 2, decidedBy: 'models' },
  },
  {
    type: 'request_blocked',
    at: 1.3,
    component: 'gateway',
    status: 'blocked',
    httpStatus: 403,
    safety: { passed: false, blockReason: 'models: gpt-4o is not allowed' },
    metadata: { policy: 'models', checkpoint: 'request' },
  },
  {
    type: 'routing_attempt_failed',
    at: 2,
    component: 'router',
    provider: 'a',
    status: 'error',
    error: 'a network error much longer than the limit of forty',
    metadata: { next: 'retry' },
  },
  { type: 'request_completed', at: 3.5, component: 'gateway', status: 'blocked', httpStatus: 403, provider: 'openai', latencyMs: 3.5 },
];

const CALL: RecordInput = {
  kind: 'llm.call',
  component: 'gateway',
  traceId: 'trace-1',
  requestId: 'request-1',
  user: 'alice',
  tenant: 'team-a',
  session: 's-1',
  apiKey: 'sk-test-0123456789abcdefghijklmnop',
  provider: 'openai',
  endpoint: 'chat.completions',
  model: 'gpt-4o',
  messageCount: 2,
  status: 'blocked',
  httpStatus: 403,
  latencyMs: 3.5,
  timestamp: '2026-03-01T10:00:00.010Z',
  events: EVENTS,
};

const sealed = () => sealEnvelope(parseRecordInput(structuredClone(CALL)), ctx);

describe("a call's events inside its record", () => {
  it('keeps each event without what the record states, and puts it back as the event record it stands for', () => {
    const { envelope, canonical } = sealed();
    expect(envelope.v).toBe(2);
    // Stored lean: no ids or user, no component where the type says it, nothing the record states.
    expect(JSON.parse(canonical).events[0]).toEqual({ at: 0.4, metadata: { stream: false }, type: 'request_received' });
    expect(JSON.parse(canonical).events[7]).toEqual({ at: 3.5, type: 'request_completed' });
    expect(canonical).not.toMatch(/"component":"(policy|router)"/);
    expect(JSON.parse(canonical).events[2].safety).toBeUndefined();
    const expanded = envelope.events!.map((event) => eventEnvelope(envelope, event));
    expanded.forEach((e, i) => {
      const { type, at: _, ...facts } = EVENTS[i]!;
      const cut = facts.error === undefined ? {} : { error: facts.error.slice(0, 40), errorTruncated: true };
      expect(e).toEqual({
        v: 2,
        id: envelope.id,
        ts: expect.any(String),
        kind: 'event',
        eventType: type,
        traceId: 'trace-1',
        requestId: 'request-1',
        user: 'alice',
        tenant: 'team-a',
        session: 's-1',
        ...(type === 'request_received' ? { apiKeyHash: envelope.apiKeyHash, apiKeyPrefix: envelope.apiKeyPrefix } : {}),
        ...facts,
        ...cut,
      });
    });
    // Times count from the call's start, its end (ts) minus its latency, to the millisecond.
    expect(expanded.map((e) => e.ts)).toEqual([
      '2026-03-01T10:00:00.007Z',
      '2026-03-01T10:00:00.007Z',
      '2026-03-01T10:00:00.007Z',
      '2026-03-01T10:00:00.008Z',
      '2026-03-01T10:00:00.008Z',
      '2026-03-01T10:00:00.008Z',
      '2026-03-01T10:00:00.009Z',
      '2026-03-01T10:00:00.010Z',
    ]);
  });

  it('keeps a fact that differs from what the rule would put back', () => {
    const events: CallEvent[] = [
      { type: 'request_completed', at: 1, status: 'error', provider: 'other' },
      { type: 'policy_evaluated', at: 2, safety: { passed: true }, metadata: { outcome: 'BLOCK' } },
      { type: 'policy_evaluated', at: 3, component: 'gateway' },
    ];
    const { envelope } = sealEnvelope(parseRecordInput({ ...CALL, events }), ctx);
    expect(envelope.events!.map((e) => JSON.parse(JSON.stringify(e)) as unknown)).toEqual([
      { at: 1, provider: 'other', status: 'error', type: 'request_completed' },
      { at: 2, metadata: { outcome: 'BLOCK' }, safety: { passed: true }, type: 'policy_evaluated' },
      { at: 3, component: 'gateway', type: 'policy_evaluated' },
    ]);
    expect(envelope.events!.map((e) => eventEnvelope(envelope, e)).map((e) => [e.status, e.provider, e.safety, e.component])).toEqual([
      ['error', 'other', undefined, 'gateway'],
      [undefined, undefined, { passed: true }, 'policy'],
      [undefined, undefined, { passed: true }, 'gateway'],
    ]);
  });

  it('reads a trace as it happened: events before their record, a closing request_completed after it', () => {
    const { envelope } = sealed();
    const before: Envelope = { ...envelope, id: 'review', kind: 'event', eventType: 'review_created', events: undefined };
    const timeline = timelineOf([
      { index: 4, envelope: before },
      { index: 7, envelope },
    ]);
    expect(timeline.map((t) => [t.index, t.event, t.envelope.eventType ?? t.envelope.kind])).toEqual([
      [4, undefined, 'review_created'],
      ...EVENTS.slice(0, -1).map((e, i) => [7, i, e.type]),
      [7, undefined, 'llm.call'],
      [7, 7, 'request_completed'],
    ]);
  });

  it('is found by every event type it carries; only the ones outside the routine are indexed', () => {
    const { envelope } = sealed();
    expect(hasEventType(envelope, 'request_blocked')).toBe(true);
    expect(hasEventType(envelope, 'policy_evaluated')).toBe(true);
    expect(hasEventType(envelope, 'routing_fallback')).toBe(false);
    expect(indexedEventTypes(envelope)).toEqual(['request_blocked', 'routing_attempt_failed']);
  });

  it('refuses events that name no type or time, or too many, naming the event', () => {
    const refused = (events: unknown) => {
      try {
        parseRecordInput({ ...CALL, events });
      } catch (err) {
        expect(err).toBeInstanceOf(RecordValidationError);
        return (err as RecordValidationError).issues;
      }
      throw new Error('accepted');
    };
    expect(refused([{ at: 1 }])).toEqual([{ path: 'events.0', message: "must have required property 'type'" }]);
    expect(refused([{ type: 'Bad Type', at: 1 }])).toEqual([{ path: 'events.0.type', message: expect.stringMatching(/lower_snake_case/) }]);
    expect(refused([{ type: 'x', at: -1 }])).toEqual([{ path: 'events.0.at', message: 'must not be negative' }]);
    expect(refused([{ type: 'x', at: 1, user: 'bob' }])).toEqual([{ path: 'events.0', message: "unknown field 'user'" }]);
    expect(refused(Array.from({ length: 1001 }, () => ({ type: 'x', at: 1 })))).toEqual([{ path: 'events', message: 'must have at most 1000 items' }]);
  });

  it("counts the events' metadata toward the record's metadata limit", () => {
    const events = Array.from({ length: 10 }, () => ({ type: 'x', at: 1, metadata: { pad: 'x'.repeat(1000) } }));
    expect(() => sealEnvelope(parseRecordInput({ ...CALL, events }), ctx)).toThrow(/metadata \(with the events' metadata\): is \d+ bytes .* limit is 8192/);
  });
});

import { describe, expect, it } from 'vitest';
import { indexedEventTypes } from '../../record/call-events.js';
import { realisticCall } from '../../record/test-support/realistic-calls.js';
import type { CallEvent, Envelope, RecordInput } from '../../record/types.js';
import { eventIndexColumns } from './postgres-event-index.js';
import { entriesFor } from '../test-support/conformance.js';

/** What the index must hold for a record: indexedEventTypes of the parsed envelope. */
const expected = (canonical: string) => indexedEventTypes(JSON.parse(canonical) as Envelope);
const columnsOf = (canonicals: string[]) =>
  eventIndexColumns(
    canonicals.map((canonical, i) => ({ id: `r${i}`, canonical })),
    (_e, position) => position,
  );

/** A gateway call's events: routine ones, policy metadata with a `type` of its own, and now and then notable ones. */
function gatewayEvents(i: number): CallEvent[] {
  const events: CallEvent[] = [
    {
      type: 'request_received',
      at: 0.2,
      component: 'gateway',
      endpoint: '/v1/chat/completions',
      model: 'gpt-4o',
      messageCount: 3,
      metadata: { stream: false },
    },
    { type: 'policy_evaluation_start', at: 0.4, metadata: { checkpoint: 'pre_request', policies: ['pii-guard', 'budget'] } },
    {
      type: 'policy_evaluated',
      at: 0.9,
      latencyMs: 0.4,
      safety: { passed: true },
      metadata: { policy: 'pii-guard', type: 'pii', checkpoint: 'pre_request', outcome: 'ALLOW' },
    },
    {
      type: 'policy_evaluated',
      at: 1.1,
      latencyMs: 0.1,
      safety: { passed: true },
      metadata: { policy: 'budget', type: 'budget', checkpoint: 'pre_request', outcome: 'ALLOW' },
    },
    { type: 'policy_evaluation_complete', at: 1.2, latencyMs: 0.6, metadata: { checkpoint: 'pre_request', outcome: 'ALLOW', policiesEvaluated: 2 } },
    { type: 'routing_start', at: 1.3, model: 'gpt-4o', metadata: { targets: ['openai', 'azure'], maxRetries: 2 } },
  ];
  if (i % 33 === 0) {
    events.push({
      type: 'routing_attempt_failed',
      at: 300,
      provider: 'openai',
      status: 'error',
      httpStatus: 503,
      error: 'HTTP 503',
      metadata: { attempt: 1, next: 'fallback' },
    });
    events.push({ type: 'routing_fallback', at: 301, provider: 'azure', metadata: { from: 'openai', to: 'azure' } });
  }
  events.push({ type: 'routing_success', at: 800, provider: 'openai', latencyMs: 790, httpStatus: 200, metadata: { attempts: 1 } });
  events.push({ type: 'request_completed', at: 805 });
  return events;
}

describe('the call_events rows of a batch', () => {
  it('are the types the ledger gave with each record, and for a record without them what indexedEventTypes says of it parsed', () => {
    const awkward = 'a "quoted" \\ back\\slash, "events":[{"type":"request_blocked"}] and "type":"x" in text';
    const inputs: RecordInput[] = [
      { model: 'm' },
      { kind: 'event', eventType: 'request_blocked', traceId: 't' },
      { events: [] },
      { events: [{ type: 'request_received', at: 0 }] },
      {
        events: [
          { type: 'request_blocked', at: 1.5, status: 'blocked' },
          { type: 'request_blocked', at: 2 },
          { type: 'request_escalated', at: 3 },
        ],
      },
      { events: [{ type: 'request_received', at: 0, metadata: { type: 'notable-but-nested', events: [{ type: 'deeper' }] } }] },
      {
        events: [
          { type: 'policy_evaluated', at: 0, error: awkward, metadata: { note: awkward, type: awkward } },
          { type: 'routing_fallback', at: 1 },
        ],
        error: awkward,
      },
      { metadata: { events: [{ type: 'not-an-event' }] }, events: [{ type: 'routing_failed', at: 9 }] },
      ...Array.from({ length: 66 }, (_, i) => ({ ...realisticCall(i), events: gatewayEvents(i) })),
    ];
    const canonicals = entriesFor(inputs).map((e) => e.canonical);
    const want = canonicals.flatMap((canonical, position) => expected(canonical).map((type) => ({ type, at: position })));
    const rows = columnsOf(canonicals);
    expect(rows.type.map((type, i) => ({ type, at: rows.at[i] }))).toEqual(want);
    expect(want.map((row) => row.type)).toEqual(
      expect.arrayContaining(['request_blocked', 'request_escalated', 'routing_fallback', 'routing_failed', 'routing_attempt_failed']),
    );
    expect(want.map((row) => row.type)).not.toEqual(expect.arrayContaining(['notable-but-nested', 'not-an-event']));
    // Given by the ledger, the types are taken as they are: the text is not read again.
    const given = eventIndexColumns([{ id: 'r0', canonical: 'not read', eventTypes: ['request_blocked'] }], (_e, position) => position);
    expect(given).toEqual({ type: ['request_blocked'], at: [0] });
  });

  it('name a record without types whose text is not JSON', () => {
    expect(() => columnsOf(['{"events":[{"type":"a"}'])).toThrow(/the canonical envelope of record r0 is not JSON/);
  });
});

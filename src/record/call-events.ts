import type { CallEvent, Envelope, LoggedRecord, SafetyFacts, TimelineEntry } from './types.js';

/**
 * A call's own events travel inside its record (envelope version 2). They are lean: an event
 * never states what its record already does, and reads as the event record it would have been in
 * version 1 once `eventEnvelope` puts that back. The rules, one place for both directions:
 *
 * - every event takes the record's trace and request ids, user, team (tenant), session and
 *   conversation, and its time is the call's start (the record's `ts` minus its `latencyMs`)
 *   plus the event's `at`;
 * - `component` is left out when it is the usual one for the type: `policy` for `policy_*`,
 *   `router` for `routing_*`, `review` for `review_*`, else the record's own;
 * - `request_received` takes the record's endpoint, model, message and tool counts and key (hash
 *   and prefix); `routing_start` its model; `routing_success` its provider, model and HTTP status;
 *   `request_completed` its status, HTTP status, provider, cost and latency (a model the upstream
 *   renamed, a fallback's provider, an answer a policy then blocked: whatever differs is kept);
 * - `policy_evaluated` takes its `safety` from its outcome and findings (passed unless it blocked;
 *   detectors: the finding names).
 *
 * A fact is left out only when it equals what would be put back, so nothing recorded is lost.
 */

/**
 * Event types every ordinary gateway call has: a search for one of them finds most calls, so no
 * index holds them (it would be a second list of the calls). Every other type, blocked, escalated,
 * failed attempts, fallbacks and the caller's own, is indexed: those are what an audit looks for.
 */
export const ROUTINE_EVENT_TYPES: ReadonlySet<string> = new Set([
  'request_received',
  'request_completed',
  'routing_start',
  'routing_success',
  'policy_evaluation_start',
  'policy_evaluated',
  'policy_evaluation_complete',
]);

const USUAL_COMPONENTS: [prefix: string, component: string][] = [
  ['policy_', 'policy'],
  ['routing_', 'router'],
  ['review_', 'review'],
];

/** The record's view the rules read: fields an event may take from it. */
export type EventContext = Pick<
  Envelope,
  'component' | 'endpoint' | 'model' | 'messageCount' | 'toolsProvided' | 'status' | 'httpStatus' | 'provider' | 'costUsd' | 'latencyMs'
>;

/**
 * Record fields an event of this type usually states as the record does: left out where equal,
 * and an event of the type that lacks one shows the record's.
 */
const TAKEN_FROM_RECORD: Record<string, readonly Exclude<keyof EventContext, 'component'>[]> = {
  request_received: ['endpoint', 'model', 'messageCount', 'toolsProvided'],
  routing_start: ['model'],
  routing_success: ['provider', 'model', 'httpStatus'],
  request_completed: ['status', 'httpStatus', 'provider', 'costUsd', 'latencyMs'],
};

/** Fields the record states for every one of its events. */
const IDENTITY = ['traceId', 'requestId', 'user', 'tenant', 'session', 'conversation'] as const;

function usualComponent(type: string, recordComponent: string | undefined): string | undefined {
  for (const [prefix, component] of USUAL_COMPONENTS) if (type.startsWith(prefix)) return component;
  return recordComponent;
}

/** What a `policy_evaluated` event's outcome and findings say of its safety. */
function policySafety(event: CallEvent): SafetyFacts {
  const metadata = event.metadata ?? {};
  const findings = metadata.findings;
  const safety: SafetyFacts = { passed: metadata.outcome !== 'BLOCK' };
  if (findings !== null && typeof findings === 'object' && !Array.isArray(findings)) safety.detectors = Object.keys(findings);
  return safety;
}

function sameSafety(a: SafetyFacts | undefined, b: SafetyFacts): boolean {
  return (
    a !== undefined &&
    a.passed === b.passed &&
    a.blockReason === undefined &&
    a.alerts === undefined &&
    a.sanitized === undefined &&
    (a.detectors ?? []).join('\n') === (b.detectors ?? []).join('\n') &&
    (a.detectors === undefined) === (b.detectors === undefined)
  );
}

/**
 * An event as it is committed: without what its record (`context`) and its own facts state. The
 * object literal lists its keys in RFC 8785 order (absent ones undefined, which JSON leaves out), as
 * the envelope's does: sealing runs for every call, and a generic canonical walk of every event cost
 * it about a third more.
 */
export function leanEvent(event: CallEvent, context: EventContext): CallEvent {
  const { type } = event;
  const taken = TAKEN_FROM_RECORD[type];
  const unlessTaken = <K extends Exclude<keyof EventContext, 'component'>>(field: K): CallEvent[K] =>
    taken !== undefined && taken.includes(field) && event[field] === context[field] ? undefined : event[field];
  return {
    at: event.at,
    cachedTokens: event.cachedTokens,
    component: event.component === usualComponent(type, context.component) ? undefined : event.component,
    costUsd: unlessTaken('costUsd'),
    endpoint: unlessTaken('endpoint'),
    error: event.error,
    errorCode: event.errorCode,
    errorTruncated: event.errorTruncated,
    errorType: event.errorType,
    httpStatus: unlessTaken('httpStatus'),
    inputTokens: event.inputTokens,
    latencyMs: unlessTaken('latencyMs'),
    messageCount: unlessTaken('messageCount'),
    metadata: event.metadata,
    model: unlessTaken('model'),
    outputTokens: event.outputTokens,
    provider: unlessTaken('provider'),
    reasoningTokens: event.reasoningTokens,
    safety: type === 'policy_evaluated' && sameSafety(event.safety, policySafety(event)) ? undefined : event.safety,
    status: unlessTaken('status'),
    stopReason: event.stopReason,
    toolCalls: event.toolCalls,
    toolsProvided: unlessTaken('toolsProvided'),
    ttftMs: event.ttftMs,
    type,
  };
}

/** Milliseconds since the epoch at which a record's call started. */
function callStart(record: Envelope): number {
  return Date.parse(record.ts) - (record.latencyMs ?? 0);
}

/** One of a record's events as the event record it stands for: kind `event`, the record's ids, its own time. */
export function eventEnvelope(record: Envelope, event: CallEvent, start = callStart(record)): Envelope {
  const { type, at, ...facts } = event;
  const envelope: Envelope = {
    v: record.v,
    id: record.id,
    ts: new Date(Math.round(start + at)).toISOString(),
    kind: 'event',
    eventType: type,
    traceId: record.traceId,
    requestId: record.requestId,
  };
  const component = facts.component ?? usualComponent(type, record.component);
  if (component !== undefined) envelope.component = component;
  const target = envelope as unknown as Record<string, unknown>;
  for (const field of IDENTITY) if (record[field] !== undefined) target[field] = record[field];
  for (const field of TAKEN_FROM_RECORD[type] ?? []) if (record[field] !== undefined) target[field] = record[field];
  if (type === 'request_received') {
    if (record.apiKeyHash !== undefined) envelope.apiKeyHash = record.apiKeyHash;
    if (record.apiKeyPrefix !== undefined) envelope.apiKeyPrefix = record.apiKeyPrefix;
  }
  if (type === 'policy_evaluated' && facts.safety === undefined) envelope.safety = policySafety(event);
  for (const [key, value] of Object.entries(facts)) if (value !== undefined) target[key] = value;
  return envelope;
}

/** The event types of a record's events that a store indexes (see ROUTINE_EVENT_TYPES), each once. */
export function indexedEventTypes(envelope: Envelope): string[] {
  const types = new Set<string>();
  for (const event of envelope.events ?? []) if (!ROUTINE_EVENT_TYPES.has(event.type)) types.add(event.type);
  return [...types];
}

/** Whether a record is, or carries, an event of this type. */
export function hasEventType(envelope: Envelope, type: string): boolean {
  return envelope.eventType === type || (envelope.events?.some((event) => event.type === type) ?? false);
}

/**
 * A trace as it reads: each record in log order, its events before it, except a closing
 * `request_completed`, which follows it (as in version 1, where the gateway wrote it last).
 */
export function timelineOf(records: readonly LoggedRecord[]): TimelineEntry[] {
  const timeline: TimelineEntry[] = [];
  for (const record of records) {
    const events = record.envelope.events;
    if (events === undefined || events.length === 0) {
      timeline.push(record);
      continue;
    }
    const start = callStart(record.envelope);
    const closing = events.at(-1)!.type === 'request_completed' ? events.length - 1 : events.length;
    const entry = (position: number): TimelineEntry => ({
      index: record.index,
      envelope: eventEnvelope(record.envelope, events[position]!, start),
      event: position,
    });
    for (let position = 0; position < closing; position++) timeline.push(entry(position));
    timeline.push(record);
    if (closing < events.length) timeline.push(entry(closing));
  }
  return timeline;
}

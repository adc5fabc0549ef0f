import type { CallEvent, RecordInput } from '../src/record/types.js';

/**
 * One gateway call as each record format has the gateway hand it to the ledger (issue 19), for
 * the benchmarks that feed a build's Ledger directly (PostgreSQL ingest, verify of a million
 * calls). The shapes are what `llm-ledger serve` writes for a plain OpenAI chat completion,
 * hash-only, copied field for field from the records of a real gateway of each build (and of the
 * format-1 fixture, src/ledger/test-support/fixtures/format-v1), with a user and a session as
 * the fixture's calls have:
 *
 * - format 1 (up to 6a250bb): `request_received`, [`policy_evaluation_start`, three
 *   `policy_evaluated`, `policy_evaluation_complete`], `routing_start`, `routing_success`, the
 *   `llm.call` record and `request_completed`, each a record of its own, handed over together
 *   (`recordAll`, as the gateway's `GatewayRuntime.record` does with a call's list): 5 records a
 *   call, 10 with three policies;
 * - format 2 (2b55d26 on): one `llm.call` record carrying those events (`events`), each with its
 *   offset from the call's start, as the gateway's CallTrace gives them to `record` (the ledger
 *   leaves out what the record states: src/record/call-events.ts).
 *
 * Plain objects, no import from src at run time: another build's Ledger validates them with its
 * own schema (format 1's refuses `events`).
 */

export type RecordFormat = 1 | 2;

/** The three policies of the gateway benchmarks (BENCH_POLICIES in gateway-processes.ts), as their events name them. */
const POLICIES = [
  { policy: 'approved-models', type: 'models' },
  { policy: 'pii', type: 'pii' },
  { policy: 'per-key', type: 'rate_limit' },
];

const USERS = ['alice', 'bob', 'carol', 'dave'];

/** What every call of a run shares; `salt` keeps two runs' ids apart. */
export interface ShapeOptions {
  /** 0, or 3: the benchmarks' three request policies, each evaluated. */
  policies: 0 | 3;
  salt: string;
}

/** The facts of call `i`: an event list with offsets in ms from its start, and its `llm.call` record's own facts. */
function callOf(i: number, options: ShapeOptions): { start: number; events: CallEvent[]; call: RecordInput } {
  const model = i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini';
  const stream = i % 2 === 1;
  const inputTokens = 40 + (i % 60);
  const outputTokens = 12 + (i % 40);
  const costUsd = Math.round((inputTokens * 0.15 + outputTokens * 0.6) * 10) / 1e8;
  const upstreamMs = Math.round((90 + (i % 70)) * 10) / 10;
  const latencyMs = Math.round((upstreamMs + 1.2 + (i % 7) * 0.1) * 1000) / 1000;
  const events: CallEvent[] = [
    { type: 'request_received', at: 0.021, component: 'gateway', endpoint: 'chat.completions', model, messageCount: 2, metadata: { stream } },
  ];
  let at = 0.05;
  if (options.policies > 0) {
    events.push({
      type: 'policy_evaluation_start',
      at,
      component: 'policy',
      metadata: { checkpoint: 'request', policies: POLICIES.map((p) => p.policy) },
    });
    for (const p of POLICIES) {
      at += 0.02;
      events.push({
        type: 'policy_evaluated',
        at,
        component: 'policy',
        latencyMs: 0.15 + (i % 5) * 0.01,
        safety: { passed: true },
        metadata: { checkpoint: 'request', outcome: 'ALLOW', policy: p.policy, type: p.type },
      });
    }
    at += 0.02;
    events.push({
      type: 'policy_evaluation_complete',
      at,
      component: 'policy',
      latencyMs: 0.6,
      metadata: { checkpoint: 'request', outcome: 'ALLOW', policiesEvaluated: POLICIES.length },
    });
  }
  at += 0.3;
  events.push({ type: 'routing_start', at, component: 'router', model, metadata: { targets: ['openai'], maxRetries: 0 } });
  events.push({
    type: 'routing_success',
    at: at + upstreamMs,
    component: 'router',
    provider: 'openai',
    model,
    latencyMs: upstreamMs,
    httpStatus: 200,
    metadata: { attempts: 1 },
  });
  const call: RecordInput = {
    kind: 'llm.call',
    component: 'gateway',
    traceId: `${options.salt}${i.toString(16).padStart(24, '0')}`,
    requestId: `req-${options.salt}-${i}`,
    user: USERS[i % USERS.length]!,
    session: `session-${i % 500}`,
    apiKey: `sk-bench-${i % 20}-0123456789abcdefghijklmnop`,
    endpoint: 'chat.completions',
    provider: 'openai',
    model,
    status: 'success',
    httpStatus: 200,
    latencyMs,
    ...(stream ? { ttftMs: Math.round((upstreamMs / 3) * 1000) / 1000 } : {}),
    inputTokens,
    outputTokens,
    reasoningTokens: 0,
    cachedTokens: 0,
    costUsd,
    stopReason: 'stop',
    toolCalls: 0,
    messageCount: 2,
    safety: { passed: true },
    content: {
      system: 'You are a careful assistant for a regulated bank. Answer briefly.',
      input: `Summarise ticket ${i} in one sentence.`,
      output: `Ticket ${i} asks for a refund of a duplicated card payment.`,
    },
    metadata: { gateway: { upstreamRequestId: `req_${i.toString(36)}` } },
  };
  events.push({ type: 'request_completed', at: latencyMs, component: 'gateway', status: 'success', httpStatus: 200, provider: 'openai', costUsd, latencyMs });
  return { start: Date.now() - latencyMs, events, call };
}

/** Call `i` in format 2: one `llm.call` record carrying its events, stamped at its end, as the gateway's finishCall hands it over. */
export function callRecordV2(i: number, options: ShapeOptions): RecordInput {
  const { start, events, call } = callOf(i, options);
  return { ...call, events, timestamp: new Date(Math.round(start + call.latencyMs!)) };
}

/**
 * Call `i` in format 1: its events as records of their own (kind `event`, the call's ids, user and
 * session, their own time; `request_received` with the key), the `llm.call` record before the
 * closing `request_completed`, in the order the gateway handed them over.
 */
export function callRecordsV1(i: number, options: ShapeOptions): RecordInput[] {
  const { start, events, call } = callOf(i, options);
  const who = { traceId: call.traceId!, requestId: call.requestId!, user: call.user!, session: call.session! };
  const record = ({ type, at, ...facts }: CallEvent): RecordInput => ({
    kind: 'event',
    eventType: type,
    ...who,
    timestamp: new Date(Math.round(start + at)),
    ...facts,
    ...(type === 'request_received' ? { apiKey: call.apiKey! } : {}),
  });
  const closing = events.pop()!;
  return [...events.map(record), { ...call, timestamp: new Date(Math.round(start + call.latencyMs!)) }, record(closing)];
}

/** Records a call makes in a format: 1 in format 2; in format 1 its events and the call. */
export function recordsPerCall(format: RecordFormat, policies: 0 | 3): number {
  return format === 2 ? 1 : policies === 3 ? 10 : 5;
}

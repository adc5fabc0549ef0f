import type { Checkpoint } from '../policy/types.js';
import type { JsonValue, LoggedRecord, RecordInput } from '../record/types.js';
import { DECISIONS, type Decision, type DecisionInput, type Review, type ReviewRequest, type ReviewStatus } from './types.js';

/*
 * Reviews live in the log itself: a `review_created` event opens one (its record id is the
 * review's id) and the first `review_decided` event naming it, in log order, decides it. Any
 * gateway instance, the CLI and the HTTP API therefore see the same reviews, and every step of a
 * review is as tamper-evident as the calls.
 */

export const CREATED = 'review_created';
export const DECIDED = 'review_decided';

/** Reviewer reasons are people's words; bounded so one cannot bloat the log. */
export const MAX_REASON_CHARS = 1000;

export function createdRecord(request: ReviewRequest): RecordInput {
  const metadata: Record<string, JsonValue> = { checkpoint: request.checkpoint, policy: request.policy, reason: request.reason, mode: request.mode };
  if (request.timeoutMs !== undefined) metadata.timeoutMs = request.timeoutMs;
  const input: RecordInput = {
    kind: 'event',
    eventType: CREATED,
    component: 'review',
    traceId: request.traceId,
    requestId: request.requestId,
    user: request.user,
    tenant: request.tenant,
    session: request.session,
    conversation: request.conversation,
    apiKey: request.apiKey,
    model: request.model,
    provider: request.provider,
    endpoint: request.endpoint,
    status: 'escalated',
    content: request.content,
    capture: request.capture,
    metadata,
  };
  for (const key of Object.keys(input) as (keyof RecordInput)[]) if (input[key] === undefined) delete input[key];
  return input;
}

export function decidedRecord(created: LoggedRecord, decision: DecisionInput, flags: { timedOut?: boolean; clientGone?: boolean } = {}): RecordInput {
  const e = created.envelope;
  const metadata: Record<string, JsonValue> = {
    reviewId: e.id,
    decision: decision.decision,
    reviewer: decision.reviewer,
    reason: decision.reason.slice(0, MAX_REASON_CHARS),
  };
  if (flags.timedOut) metadata.timedOut = true;
  if (flags.clientGone) metadata.clientGone = true;
  const input: RecordInput = {
    kind: 'event',
    eventType: DECIDED,
    component: 'review',
    traceId: e.traceId,
    requestId: e.requestId,
    user: e.user,
    tenant: e.tenant,
    session: e.session,
    conversation: e.conversation,
    status: decision.decision === 'approved' ? 'success' : 'blocked',
    metadata,
  };
  for (const key of Object.keys(input) as (keyof RecordInput)[]) if (input[key] === undefined) delete input[key];
  return input;
}

const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : '');

/** The first decision on record for a review, among the records of its trace (in log order). */
export function firstDecision(reviewId: string, traceRecords: readonly LoggedRecord[]): Review['decision'] {
  for (const { envelope: e } of traceRecords) {
    const m = e.metadata;
    if (e.eventType !== DECIDED || m?.reviewId !== reviewId || !DECISIONS.includes(m.decision as Decision)) continue;
    const decision: NonNullable<Review['decision']> = { decision: m.decision as Decision, reviewer: text(m.reviewer), reason: text(m.reason), decidedAt: e.ts };
    if (m.timedOut === true) decision.timedOut = true;
    return decision;
  }
  return undefined;
}

export function isReviewRecord(record: LoggedRecord | undefined): record is LoggedRecord {
  return record?.envelope.kind === 'event' && record.envelope.eventType === CREATED;
}

/**
 * A held review with no decision this long after its deadline has no gateway waiting on it any
 * more (the one holding it would have recorded the timeout): it is shown as expired.
 */
const EXPIRY_GRACE_MS = 10_000;

/** A review as the desk shows it, from its `review_created` record and its trace's decisions. */
export function reviewOf(created: LoggedRecord, decision: Review['decision'], now: number): Review {
  const e = created.envelope;
  const m = e.metadata ?? {};
  const mode = m.mode === 'async' ? 'async' : 'hold';
  const review: Review = {
    id: e.id,
    createdAt: e.ts,
    traceId: e.traceId,
    requestId: e.requestId,
    checkpoint: (m.checkpoint === 'response' ? 'response' : 'request') as Checkpoint,
    policy: text(m.policy),
    reason: text(m.reason),
    mode,
    status: 'pending',
    contentStored: Object.keys(e.capture?.fields ?? {}).length > 0,
  };
  if (typeof m.timeoutMs === 'number') review.deadline = new Date(Date.parse(e.ts) + m.timeoutMs).toISOString();
  for (const key of ['user', 'tenant', 'model', 'endpoint'] as const) if (e[key] !== undefined) review[key] = e[key];
  let status: ReviewStatus = 'pending';
  if (decision) {
    review.decision = decision;
    status = decision.decision;
  } else if (mode === 'hold' && review.deadline !== undefined && Date.parse(review.deadline) + EXPIRY_GRACE_MS < now) {
    status = 'expired';
  }
  review.status = status;
  return review;
}

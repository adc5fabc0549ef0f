import type { Checkpoint } from '../../policy/types.js';
import type { Review } from '../../review/types.js';
import type { CallState } from '../call/call-record.js';
import type { GatewayError } from '../http/wire-errors.js';

/** What stopped a call: the policy (or review) and its reason, never the content. */
export interface Refusal {
  policy: string;
  reason: string;
  /** 403 unless the policy says otherwise (a rate limit: 429). */
  httpStatus?: number;
  retryAfterMs?: number;
  reviewId?: string;
}

/**
 * Marks a call blocked at a checkpoint (`request_blocked` / `response_blocked` in its trace)
 * and returns the error the client gets: in the endpoint's wire format, naming the policy and the
 * trace id so the client can quote them, with Retry-After when the policy gives one.
 */
export function refuseCall(call: CallState, checkpoint: Checkpoint, refusal: Refusal): { error: GatewayError; headers: Record<string, string> } {
  const status = refusal.httpStatus ?? 403;
  const reason = `${refusal.policy}: ${refusal.reason}`.slice(0, 1024);
  call.status = 'blocked';
  call.httpStatus = status;
  call.error = `blocked at the ${checkpoint} checkpoint by ${reason}`;
  const safety = (call.safety ??= {});
  safety.passed = false;
  safety.blockReason = reason;
  call.trace.event(`${checkpoint}_blocked`, 'gateway', {
    status: 'blocked',
    httpStatus: status,
    safety: { passed: false, blockReason: reason },
    metadata: { policy: refusal.policy, checkpoint, ...(refusal.reviewId === undefined ? {} : { reviewId: refusal.reviewId }) },
  });
  const { traceId } = call.context;
  const what = checkpoint === 'request' ? 'request' : 'answer';
  const error: GatewayError = {
    status,
    type: status === 429 ? 'rate_limit_exceeded' : 'policy_blocked',
    message: `this ${what} was blocked by policy "${refusal.policy}": ${refusal.reason} (trace ${traceId})`,
    details: { policy: refusal.policy, trace_id: traceId, ...(refusal.reviewId === undefined ? {} : { review_id: refusal.reviewId }) },
  };
  const headers: Record<string, string> =
    refusal.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))) };
  return { error, headers };
}

/** A call whose review rejected it, or ran out of time: blocked, naming the review. */
export function refuseReviewed(
  call: CallState,
  checkpoint: Checkpoint,
  policy: string,
  review: Review,
): { error: GatewayError; headers: Record<string, string> } {
  const why = review.decision?.timedOut ? 'escalated, and no reviewer decided within the time allowed' : 'escalated, and rejected';
  const { error, headers } = refuseCall(call, checkpoint, { policy, reason: `${why} in review ${review.id}`, reviewId: review.id });
  return { error: { ...error, type: 'review_rejected' }, headers };
}

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyResult } from '../../policy/engine.js';
import type { Checkpoint, ReviewSettings } from '../../policy/types.js';
import type { ContentInput } from '../../record/types.js';
import type { Review, ReviewRequest } from '../../review/types.js';
import type { CallState } from '../call/call-record.js';
import { finishCall, UNRECORDED } from '../call/call-finish.js';
import type { GatewayRuntime } from '../runtime.js';

/** An escalating policy that names no review settings (a custom one) holds for five minutes. */
const DEFAULT_REVIEW: ReviewSettings = { mode: 'hold', timeoutMs: 300_000 };

/** The header a client sends with a request it sends again once its review was approved (async mode). */
export const REVIEW_HEADER = 'x-llm-ledger-review-id';

export type HoldOutcome =
  | { kind: 'approved'; review: Review }
  | { kind: 'rejected'; review: Review }
  /** The client went away (or the gateway stopped) while the call waited. */
  | { kind: 'gone' }
  /** The review could not be recorded, so nobody could decide it: the call is answered 503. */
  | { kind: 'unrecorded' };

/** A policy's review settings; an answer under review is always held (it cannot be sent again later). */
function reviewSettingsOf(result: PolicyResult, checkpoint: Checkpoint): ReviewSettings {
  const settings = result.policy.review ?? DEFAULT_REVIEW;
  return checkpoint === 'response' && settings.mode === 'async' ? { ...settings, mode: 'hold' } : settings;
}

function reviewRequestOf(call: CallState, checkpoint: Checkpoint, result: PolicyResult, settings: ReviewSettings, content: ContentInput): ReviewRequest {
  const request: ReviewRequest = {
    traceId: call.context.traceId,
    requestId: call.context.requestId,
    checkpoint,
    policy: result.policy.name,
    reason: result.reason ?? 'escalated',
    mode: settings.mode,
    endpoint: call.adapter.endpoint,
    content,
  };
  if (settings.mode === 'hold') request.timeoutMs = settings.timeoutMs;
  const user = call.identity?.user ?? call.context.user;
  const optional = {
    user,
    tenant: call.identity?.tenant,
    session: call.context.session,
    conversation: call.context.conversation,
    apiKey: call.identity?.apiKey,
    model: call.request?.model,
    provider: call.provider?.name,
    capture: call.context.capture,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (request as unknown as Record<string, string>)[key] = value;
  return request;
}

/**
 * Opens a review of a call at a checkpoint (`request_escalated` / `response_escalated`, then
 * `review_created`, after the rest of its trace so far, all committed before anyone waits), and
 * in hold mode waits for the decision: a reviewer's, the timeout's (a rejection), or the
 * client's going away. The content under review is kept with the review as capture says.
 */
export async function escalate(
  runtime: GatewayRuntime,
  call: CallState,
  res: ServerResponse,
  checkpoint: Checkpoint,
  result: PolicyResult,
  content: ContentInput,
): Promise<HoldOutcome | { kind: 'async'; reviewId: string }> {
  const settings = reviewSettingsOf(result, checkpoint);
  call.trace.event(`${checkpoint}_escalated`, 'gateway', { status: 'escalated', metadata: { policy: result.policy.name, checkpoint, mode: settings.mode } });
  let reviewId: string;
  try {
    reviewId = await runtime.reviews.open(reviewRequestOf(call, checkpoint, result, settings, content), call.trace.takeRecords());
  } catch (err) {
    runtime.log(`llm-ledger gateway: the review of request ${call.context.requestId} could not be recorded: ${(err as Error).message}`);
    return { kind: 'unrecorded' };
  }
  call.reviewId = reviewId;
  if (settings.mode === 'async') return { kind: 'async', reviewId };
  const cancel = new AbortController();
  const exchange = { abort: () => cancel.abort('the gateway stopped before a decision') };
  const onClose = () => {
    if (!res.writableFinished) cancel.abort('the client went away before a decision');
  };
  res.on('close', onClose);
  runtime.active.add(exchange);
  try {
    const review = await runtime.reviews.awaitDecision(reviewId, settings.timeoutMs, cancel.signal);
    if (cancel.signal.aborted) return { kind: 'gone' };
    return review.status === 'approved' ? { kind: 'approved', review } : { kind: 'rejected', review };
  } finally {
    res.off('close', onClose);
    runtime.active.delete(exchange);
  }
}

/**
 * Answers 202 for a call sent to review in async mode: the review id, and how to send the
 * request again once it is approved. The call is recorded as `escalated`.
 */
export async function answerAccepted(
  runtime: GatewayRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  call: CallState,
  reviewId: string,
  policy: string,
  reason: string,
): Promise<void> {
  call.status = 'escalated';
  call.httpStatus = 202;
  call.reviewId = reviewId;
  const recorded = await finishCall(runtime, call, req.headers);
  if (!recorded) return runtime.sendError(res, call.adapter.provider, UNRECORDED);
  const body = JSON.stringify({
    object: 'llm_ledger.review',
    id: reviewId,
    status: 'pending',
    policy,
    reason,
    trace_id: call.context.traceId,
    request_id: call.context.requestId,
    message: `this request needs a reviewer's approval (review ${reviewId}); send it again, unchanged, with the header ${REVIEW_HEADER}: ${reviewId} to learn the decision, and to have it answered once approved`,
  });
  res
    .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [REVIEW_HEADER]: reviewId, 'retry-after': '30' })
    .end(body);
}

export type Resubmission = { kind: 'approved' } | { kind: 'pending'; review: Review } | { kind: 'refused'; status: number; message: string };

/**
 * A request sent again with the id of its async review: allowed only when that review approved
 * this very request (the same prompt, by the digests the review kept, from the same key and
 * user) within `gateway.review.approval_ttl_ms`.
 */
export async function checkResubmission(runtime: GatewayRuntime, call: CallState, reviewId: string): Promise<Resubmission> {
  const refused = (status: number, why: string): Resubmission => ({ kind: 'refused', status, message: `${REVIEW_HEADER} ${reviewId.slice(0, 64)}: ${why}` });
  if (!/^[0-9a-f-]{36}$/.test(reviewId)) return refused(400, 'is not a review id');
  const [review, created] = await Promise.all([runtime.reviews.get(reviewId), runtime.ledger.get(reviewId)]);
  if (!review || !created) return refused(400, 'names no review');
  const e = created.envelope;
  const keyHash = call.identity?.apiKey === undefined ? undefined : createHash('sha256').update(call.identity.apiKey).digest('hex');
  if (review.mode !== 'async' || review.checkpoint !== 'request') return refused(400, 'is not a review of a request that may be sent again');
  if (e.apiKeyHash !== keyHash || e.user !== (call.identity?.user ?? call.context.user)) return refused(403, 'was opened for another caller');
  const texts = call.request?.texts ?? {};
  const digests = e.digests;
  if (digests === undefined || (digests.input === undefined && digests.system === undefined))
    return refused(
      400,
      'kept no digest of its prompt (capture was lowered), so this request cannot be matched to it; send it without the header to open a new review',
    );
  const same = (kept: string | undefined, text: string | undefined) => kept === (text === undefined ? undefined : runtime.ledger.contentDigest(text));
  if (!same(digests.input, texts.input) || !same(digests.system, texts.system))
    return refused(400, 'was opened for another prompt; send this request without the header to open a review of it');
  if (review.status === 'pending') return { kind: 'pending', review };
  if (review.status !== 'approved') return refused(403, `was ${review.status}`);
  const approvedAt = Date.parse(review.decision!.decidedAt);
  if (approvedAt + runtime.settings.approvalTtlMs < Date.now())
    return refused(
      403,
      `was approved at ${review.decision!.decidedAt}, longer ago than gateway.review.approval_ttl_ms allows; send the request without the header to open a new review`,
    );
  return { kind: 'approved' };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Evaluation } from '../../policy/engine.js';
import { isObject } from '../../providers/json-fields.js';
import type { ProviderAdapter } from '../../providers/types.js';
import { answerWithError, finishCall, requestReceived, UNRECORDED } from './call-finish.js';
import type { CallState } from './call-record.js';
import { CallTrace } from './call-trace.js';
import { readClientContext } from '../http/client-context.js';
import { answerAccepted, checkResubmission, escalate, REVIEW_HEADER } from '../governance/escalation.js';
import { forward } from './forward.js';
import { redactSlots, runCheckpoint } from '../governance/governance.js';
import { authenticate } from '../http/identity.js';
import { refuseCall, refuseReviewed } from '../governance/policy-answers.js';
import { readBody, type GatewayRuntime } from '../runtime.js';
import { badRequest, unauthorized } from '../http/wire-errors.js';

/**
 * Serves one call to an LLM endpoint: checks who is calling and what, runs the request
 * checkpoint's policies (which may block it, send it to review, or redact it), sends it along its
 * route (see forward.ts), and records the call with its trace, whatever happened: success,
 * upstream error, bad request, block, timeout or client disconnect.
 */
export async function serveCall(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, adapter: ProviderAdapter): Promise<void> {
  const { settings } = runtime;
  const startedAt = performance.now();
  const { context, problem } = readClientContext(req.headers, settings.maxClientMetadataBytes);
  res.setHeader('x-request-id', context.requestId);
  res.setHeader('x-trace-id', context.traceId);
  const call: CallState = {
    adapter,
    context,
    startedAt,
    trace: new CallTrace(startedAt, () => ({
      traceId: call.context.traceId,
      requestId: call.context.requestId,
      user: call.identity?.user ?? call.context.user,
      tenant: call.identity?.tenant,
      session: call.context.session,
      conversation: call.context.conversation,
      endpoint: call.adapter.endpoint,
      apiKey: call.identity?.apiKey,
    })),
  };

  const auth = authenticate(req.headers, settings.auth, settings.keys);
  if (!auth.ok) {
    if (auth.apiKey !== undefined) call.identity = { apiKey: auth.apiKey };
    return answerWithError(runtime, req, res, call, unauthorized(auth.problem));
  }
  call.identity = auth.identity;
  if (problem) return answerWithError(runtime, req, res, call, badRequest(problem));

  const body = await readBody(req, settings.maxRequestBytes);
  if (body === 'aborted') {
    call.status = 'aborted';
    await finishCall(runtime, call, undefined);
    return;
  }
  if (body === 'too large')
    return answerWithError(runtime, req, res, call, {
      status: 413,
      type: 'request_too_large',
      message: `the request body is larger than gateway.max_request_bytes (${settings.maxRequestBytes} bytes)`,
    });
  const json = parseObject(body);
  if (!json) return answerWithError(runtime, req, res, call, badRequest('the request body must be a JSON object'));
  call.request = adapter.describeRequest(json);
  requestReceived(call);
  const model = call.request.model;
  if (model === undefined || model === '' || model.length > 256)
    return answerWithError(runtime, req, res, call, badRequest('the request must name its "model" (a string of at most 256 characters)'));
  const route = settings.router.route(model, adapter.provider);
  if ('problem' in route) return answerWithError(runtime, req, res, call, badRequest(route.problem));
  call.provider = route.plan.targets[0]!.provider;

  if (runtime.refusesTraffic()) {
    runtime.refused();
    runtime.sendError(
      res,
      adapter.provider,
      {
        status: 503,
        type: 'ledger_unavailable',
        message:
          'the audit ledger cannot record calls right now and this gateway fails closed (gateway.on_store_failure: fail_closed): no call was made; retry later',
      },
      { 'retry-after': String(Math.max(1, Math.ceil(settings.retryIntervalMs / 1000))) },
    );
    return;
  }

  let outgoing = body;
  if (settings.policies.at('request').length > 0) {
    const slots = adapter.requestTexts(json);
    const evaluation = await runCheckpoint(
      runtime,
      call,
      'request',
      slots.map((slot) => slot.text),
      adapter.outputTokenLimit.read(json),
    );
    if (!(await passesRequestCheckpoint(runtime, req, res, call, evaluation))) return;
    if (evaluation.redactions.length > 0 || evaluation.clampOutputTokens !== undefined) {
      redactSlots(call, slots, evaluation);
      if (evaluation.clampOutputTokens !== undefined) adapter.outputTokenLimit.write(json, evaluation.clampOutputTokens);
      outgoing = Buffer.from(JSON.stringify(json));
    }
  }
  forward(runtime, req, res, call, route.plan, outgoing, json);
}

/**
 * Acts on the request checkpoint's outcome: BLOCK answers at once (no upstream call), ESCALATE
 * sends the request to review. True when the request may go on (allowed, redacted, or approved).
 */
async function passesRequestCheckpoint(
  runtime: GatewayRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  call: CallState,
  evaluation: Evaluation,
): Promise<boolean> {
  const by = evaluation.decidedBy;
  if (evaluation.outcome === 'BLOCK') {
    const { error, headers } = refuseCall(call, 'request', { policy: by!.policy.name, reason: by!.reason ?? 'blocked', ...verdictStatus(by!.verdict) });
    await answerWithError(runtime, req, res, call, error, headers);
    return false;
  }
  if (evaluation.outcome !== 'ESCALATE') return true;
  const named = req.headers[REVIEW_HEADER];
  if (typeof named === 'string') return resubmitted(runtime, req, res, call, named, evaluation);
  const texts = call.request?.texts ?? {};
  const outcome = await escalate(runtime, call, res, 'request', by!, {
    ...(texts.system === undefined ? {} : { system: texts.system }),
    ...(texts.input === undefined ? {} : { input: texts.input }),
  });
  switch (outcome.kind) {
    case 'approved':
      return true;
    case 'async':
      await answerAccepted(runtime, req, res, call, outcome.reviewId, by!.policy.name, by!.reason ?? 'escalated');
      return false;
    case 'rejected': {
      const { error, headers } = refuseReviewed(call, 'request', by!.policy.name, outcome.review);
      await answerWithError(runtime, req, res, call, error, headers);
      return false;
    }
    case 'gone':
      call.status = 'aborted';
      await finishCall(runtime, call, req.headers);
      return false;
    case 'unrecorded':
      await answerWithError(runtime, req, res, call, {
        ...UNRECORDED,
        message: 'this request needs a review, and the audit ledger could not record it, so it was not sent on; retry later',
      });
      return false;
  }
}

/** An escalated request sent again with the id of its review (async mode). */
async function resubmitted(
  runtime: GatewayRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  call: CallState,
  reviewId: string,
  evaluation: Evaluation,
): Promise<boolean> {
  const by = evaluation.decidedBy!;
  const check = await checkResubmission(runtime, call, reviewId);
  if (check.kind === 'approved') {
    call.reviewId = reviewId;
    call.trace.event('review_applied', 'review', { metadata: { reviewId, policy: by.policy.name } });
    return true;
  }
  if (check.kind === 'pending') {
    call.trace.event('request_escalated', 'gateway', {
      status: 'escalated',
      metadata: { policy: by.policy.name, checkpoint: 'request', mode: 'async', reviewId },
    });
    await answerAccepted(runtime, req, res, call, reviewId, by.policy.name, by.reason ?? 'escalated');
    return false;
  }
  await answerWithError(runtime, req, res, call, { status: check.status, type: 'review_not_applicable', message: check.message });
  return false;
}

function verdictStatus(verdict: { httpStatus?: number; retryAfterMs?: number }): { httpStatus?: number; retryAfterMs?: number } {
  return {
    ...(verdict.httpStatus === undefined ? {} : { httpStatus: verdict.httpStatus }),
    ...(verdict.retryAfterMs === undefined ? {} : { retryAfterMs: verdict.retryAfterMs }),
  };
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    return isObject(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

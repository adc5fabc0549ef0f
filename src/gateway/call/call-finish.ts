import type { IncomingMessage, ServerResponse } from 'node:http';
import { callRecord, type CallState } from './call-record.js';
import type { GatewayRuntime } from '../runtime.js';
import type { GatewayError } from '../http/wire-errors.js';

/** The answer is withheld when its record cannot be written (durability: sync). */
export const UNRECORDED: GatewayError = {
  status: 503,
  type: 'ledger_unavailable',
  message: 'the audit ledger could not record this call, so its answer is withheld (gateway.durability: sync); retry later',
};

/**
 * The call's first event: what arrived (the key it came with is its record's). A call refused
 * before its body was read gets it when it is finished.
 */
export function requestReceived(call: CallState): void {
  call.received = true;
  const request = call.request;
  call.trace.event('request_received', 'gateway', {
    endpoint: call.adapter.endpoint,
    ...(request?.model === undefined ? {} : { model: request.model.slice(0, 256) }),
    ...(request?.messageCount === undefined ? {} : { messageCount: request.messageCount }),
    ...(request?.toolsProvided === undefined ? {} : { toolsProvided: request.toolsProvided }),
    metadata: { stream: request?.stream ?? false },
  });
}

/**
 * Ends a call: its `llm.call` record, carrying every event of its trace not yet recorded and a
 * closing `request_completed`, goes to the ledger (see `GatewayRuntime.record` for when that
 * resolves), and budgets learn what it cost. `headers`: the client's, for capture, when some may be kept.
 */
export function finishCall(runtime: GatewayRuntime, call: CallState, headers: IncomingMessage['headers'] | undefined): Promise<boolean> {
  const { settings } = runtime;
  if (!call.received) requestReceived(call);
  const record = callRecord(call, settings.pricing, settings.keepsHeaders ? headers : undefined);
  call.trace.event('request_completed', 'gateway', {
    status: record.status,
    ...(record.httpStatus === undefined ? {} : { httpStatus: record.httpStatus }),
    ...(record.provider === undefined ? {} : { provider: record.provider }),
    ...(record.costUsd === undefined ? {} : { costUsd: record.costUsd }),
    latencyMs: record.latencyMs,
  });
  record.events = call.trace.take();
  // Its time is the call's end, so the start its events count from is `ts - latencyMs`.
  record.timestamp = call.trace.timeAfter(record.latencyMs ?? 0);
  settings.policies.observe({ user: record.user, team: record.tenant, costUsd: record.costUsd });
  return runtime.record(record);
}

/** An answer of the gateway's own (bad request, unknown key, policy block): the call is recorded, then answered. */
export async function answerWithError(
  runtime: GatewayRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  call: CallState,
  error: GatewayError,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  call.httpStatus ??= error.status;
  call.error ??= error.message;
  const recorded = await finishCall(runtime, call, req.headers);
  runtime.sendError(res, call.adapter.provider, recorded ? error : UNRECORDED, recorded ? extraHeaders : {});
  if (!req.complete) req.resume();
}

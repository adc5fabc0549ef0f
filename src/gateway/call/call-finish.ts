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
 * The call's first event: what arrived, from whom (the key only as hash and prefix). A call
 * refused before its body was read gets it when it is finished.
 */
export function requestReceived(call: CallState): void {
  call.received = true;
  const request = call.request;
  call.trace.event('request_received', 'gateway', {
    endpoint: call.adapter.endpoint,
    ...(request?.model === undefined ? {} : { model: request.model.slice(0, 256) }),
    ...(request?.messageCount === undefined ? {} : { messageCount: request.messageCount }),
    ...(request?.toolsProvided === undefined ? {} : { toolsProvided: request.toolsProvided }),
    ...(call.identity?.apiKey === undefined ? {} : { apiKey: call.identity.apiKey }),
    metadata: { stream: request?.stream ?? false },
  });
}

/**
 * Ends a call: its `llm.call` record and `request_completed` go after every event of its trace,
 * all handed to the ledger in order (see `GatewayRuntime.record` for when that resolves), and
 * budgets learn what it cost. `headers`: the client's, for capture, when some may be kept.
 */
export function finishCall(runtime: GatewayRuntime, call: CallState, headers: IncomingMessage['headers'] | undefined): Promise<boolean> {
  const { settings } = runtime;
  if (!call.received) requestReceived(call);
  const record = callRecord(call, settings.pricing, settings.keepsHeaders ? headers : undefined);
  // Stamped now, as the events around it are, so the trace reads in time order.
  record.timestamp = new Date();
  call.trace.add(record);
  call.trace.event('request_completed', 'gateway', {
    status: record.status,
    ...(record.httpStatus === undefined ? {} : { httpStatus: record.httpStatus }),
    ...(record.provider === undefined ? {} : { provider: record.provider }),
    ...(record.costUsd === undefined ? {} : { costUsd: record.costUsd }),
    latencyMs: record.latencyMs,
  });
  settings.policies.observe({ user: record.user, team: record.tenant, costUsd: record.costUsd });
  return runtime.record(call.trace.take());
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

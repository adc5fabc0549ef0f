import type { IncomingHttpHeaders } from 'node:http';
import { isCredentialHeader } from '../../capture/policy-headers.js';
import { normaliseCall } from '../../providers/normalise.js';
import type { Pricing } from '../../providers/pricing.js';
import type { ProviderAdapter, RequestFacts, ResponseFacts } from '../../providers/types.js';
import { boundedCallFacts, millis } from '../../providers/record-fields.js';
import type { JsonValue, RecordInput, RecordStatus, SafetyFacts } from '../../record/types.js';
import type { CallTrace } from './call-trace.js';
import type { ClientContext } from '../http/client-context.js';
import type { CallerIdentity } from '../http/identity.js';
import type { UpstreamProvider } from '../upstream-provider.js';

/** Everything the gateway learned about one call, filled in as the call goes. */
export interface CallState {
  adapter: ProviderAdapter;
  context: ClientContext;
  /** `performance.now()` when the request arrived: latency and time to first token count from here. */
  startedAt: number;
  /** `performance.now()` when the call ended, if its record is built later. */
  endedAt?: number;
  identity?: CallerIdentity;
  provider?: UpstreamProvider;
  request?: RequestFacts;
  response?: ResponseFacts;
  status?: RecordStatus;
  httpStatus?: number;
  /** The gateway's own account of a failure (timeout, unreachable upstream, bad request). */
  error?: string;
  upstreamRequestId?: string;
  /** The upstream connection broke before the answer was complete. */
  cutOff?: boolean;
  /** The call's trace events, recorded with its `llm.call` record. */
  trace: CallTrace;
  /** Its `request_received` event is in the trace. */
  received?: true;
  /** What the policies found and did: the record's `safety`. */
  safety?: SafetyFacts;
  /** SHA-256 (hex) of the presented key, computed once when a policy needs it. */
  keyHash?: string;
  /** The model name the answering upstream was asked for, when a route renamed it. */
  upstreamModel?: string;
  /** Upstream attempts made (retries and fallbacks included). */
  attempts?: number;
  /** The review that held or answered this call, if it was escalated. */
  reviewId?: string;
}

/** The call's status: the client's disconnect first, then any error, else success. */
function statusOf(call: CallState): RecordStatus {
  if (call.status) return call.status;
  if (call.error !== undefined || call.response?.error || (call.httpStatus !== undefined && call.httpStatus >= 400)) return 'error';
  return 'success';
}

/** Request headers for the capture policy, which keeps only allow-listed ones; credentials never leave here. */
function headersForCapture(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || isCredentialHeader(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** What the gateway adds to the client's metadata: the provider's request id and anything odd about a stream. */
function metadataOf(call: CallState): Record<string, JsonValue> | undefined {
  const gateway: Record<string, JsonValue> = {};
  if (call.upstreamRequestId !== undefined) gateway.upstreamRequestId = call.upstreamRequestId;
  if (call.upstreamModel !== undefined) gateway.upstreamModel = call.upstreamModel;
  if (call.attempts !== undefined && call.attempts > 1) gateway.attempts = call.attempts;
  if (call.reviewId !== undefined) gateway.reviewId = call.reviewId;
  const stream = call.response?.stream;
  if (stream && !stream.completed) gateway.streamCompleted = false;
  if (stream && stream.malformedEvents > 0) gateway.malformedEvents = stream.malformedEvents;
  const client = call.context.metadata;
  if (Object.keys(gateway).length === 0) return client;
  return { ...client, gateway };
}

/**
 * One `llm.call` record for one request: the adapter's facts (model, usage, tools, texts for the
 * capture policy), the caller's identity and context, status, latency and cost.
 */
export function callRecord(call: CallState, pricing: Pricing, headers: IncomingHttpHeaders | undefined): RecordInput {
  const normalised = normaliseCall(call.adapter, call.request ?? { stream: false, texts: {} }, call.response ?? { usage: {} });
  const facts = boundedCallFacts(normalised, pricing);
  const { context, identity } = call;
  const metadata = metadataOf(call);
  const input: RecordInput = {
    kind: 'llm.call',
    component: 'gateway',
    traceId: context.traceId,
    requestId: context.requestId,
    provider: call.provider?.name,
    ...facts,
    user: identity?.user ?? context.user,
    tenant: identity?.tenant,
    session: context.session,
    conversation: context.conversation,
    apiKey: identity?.apiKey,
    status: statusOf(call),
    httpStatus: call.httpStatus,
    error: call.error ?? facts.error,
    latencyMs: millis((call.endedAt ?? performance.now()) - call.startedAt),
    safety: call.safety,
    headers: headers && headersForCapture(headers),
    capture: context.capture,
    metadata,
  };
  for (const key of Object.keys(input) as (keyof RecordInput)[]) if (input[key] === undefined) delete input[key];
  return input;
}

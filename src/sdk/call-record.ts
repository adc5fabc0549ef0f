import { normaliseCall } from '../providers/normalise.js';
import type { Pricing } from '../providers/pricing.js';
import type { ProviderAdapter } from '../providers/types.js';
import { boundedCallFacts, millis } from '../providers/record-fields.js';
import type { JsonValue, RecordInput, RecordStatus } from '../record/types.js';
import type { ObservedAnswer } from './observe-answer.js';
import { thrownErrorFacts, type ThrownFacts } from './sdk-errors.js';

/** One logical call as the wrapper saw it, once it is over. */
export interface FinishedCall {
  adapter: ProviderAdapter;
  /** The request body as sent, parsed. */
  params: unknown;
  /** The last HTTP answer (retries before it are not separate calls). */
  answer?: ObservedAnswer;
  /** Present when the SDK call failed: the error it threw. */
  thrown?: { error: unknown };
  aborted: boolean;
  attempts: number;
  latencyMs: number;
}

/** Who made the call and how it is filed, from the wrapper's options. */
export interface CallContext {
  provider: string;
  apiKey?: string;
  user?: string;
  tenant?: string;
  session?: string;
  conversation?: string;
  traceId?: string;
  requestId?: string;
  capture?: string;
  metadata?: Record<string, JsonValue>;
}

function statusOf(call: FinishedCall): RecordStatus {
  if (call.aborted) return 'aborted';
  const answer = call.answer;
  if (call.thrown || answer?.response.error || answer?.ending === 'broken' || (answer !== undefined && answer.status >= 400)) return 'error';
  return 'success';
}

/** Why the call failed, when the answer itself does not say (its error body is the better account). */
function failureOf(call: FinishedCall): ThrownFacts | undefined {
  if (call.aborted || call.answer?.response.error) return undefined;
  if (call.thrown) return thrownErrorFacts(call.thrown.error);
  if (call.answer?.ending === 'broken') return { error: 'the answer was cut off before its end (connection lost or SDK timeout)' };
  return undefined;
}

/** The wrapper's own facts, beside the caller's metadata: the provider's request id, retries, stream oddities. */
function metadataOf(call: FinishedCall, context: CallContext): Record<string, JsonValue> | undefined {
  const sdk: Record<string, JsonValue> = {};
  const answer = call.answer;
  if (answer?.upstreamRequestId !== undefined) sdk.upstreamRequestId = answer.upstreamRequestId;
  if (call.attempts > 1) sdk.attempts = call.attempts;
  const stream = answer?.response.stream;
  if (stream && !stream.completed) sdk.streamCompleted = false;
  if (stream && stream.malformedEvents > 0) sdk.malformedEvents = stream.malformedEvents;
  if (Object.keys(sdk).length === 0) return context.metadata;
  return { ...context.metadata, sdk };
}

/** One `llm.call` record for one logical SDK call: the adapters' facts, the caller's context, status, latency and cost. */
export function sdkCallRecord(call: FinishedCall, context: CallContext, pricing: Pricing): RecordInput {
  const request = call.adapter.describeRequest(call.params ?? {});
  const normalised = normaliseCall(call.adapter, request, call.answer?.response ?? { usage: {} });
  const facts = boundedCallFacts(normalised, pricing);
  const failure = failureOf(call);
  const input: RecordInput = {
    kind: 'llm.call',
    component: 'sdk',
    traceId: context.traceId,
    requestId: context.requestId,
    provider: context.provider,
    ...facts,
    user: context.user,
    tenant: context.tenant,
    session: context.session,
    conversation: context.conversation,
    apiKey: context.apiKey,
    status: statusOf(call),
    httpStatus: call.answer?.status ?? httpStatusOf(call.thrown?.error),
    error: failure?.error ?? facts.error,
    errorType: failure?.errorType ?? facts.errorType,
    // A thrown error's message may quote the request or the answer: it goes where the answer's own error message would.
    content: failure?.message === undefined ? facts.content : { ...facts.content, error: failure.message },
    latencyMs: millis(call.latencyMs),
    capture: context.capture,
    metadata: metadataOf(call, context),
  };
  for (const key of Object.keys(input) as (keyof RecordInput)[]) if (input[key] === undefined) delete input[key];
  return input;
}

/** The HTTP status an SDK error carries, when it came from an answer (`APIError.status`). */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

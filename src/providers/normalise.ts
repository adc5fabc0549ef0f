import type { RecordInput } from '../record/types.js';
import type { NormalisedCall, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { compact } from './json-fields.js';

/** Request and answer facts as one call. The answering model wins over the requested alias. */
export function normaliseCall(adapter: ProviderAdapter, request: RequestFacts, response: ResponseFacts): NormalisedCall {
  return compact({
    provider: adapter.provider,
    endpoint: adapter.endpoint,
    model: response.model ?? request.model,
    stream: request.stream,
    messageCount: request.messageCount,
    toolsProvided: request.toolsProvided,
    toolCalls: response.toolCalls,
    stopReason: response.stopReason,
    usage: response.usage,
    ttftMs: response.stream?.ttftMs,
    error: response.error,
    texts: compact({ system: request.texts.system, input: request.texts.input, output: response.output }),
    streamCompleted: response.stream?.completed,
    malformedEvents: response.stream?.malformedEvents,
  });
}

/**
 * The call's facts as fields of `ledger.record()`. Identity, status, latency and cost belong to
 * the caller (gateway or SDK wrapper), which knows them; texts go to `content`, where the ledger's
 * capture policy digests them. `cacheWriteTokens` has no record field and is left out.
 */
export function toRecordInput(call: NormalisedCall): RecordInput {
  const { inputTokens, outputTokens, cachedTokens, reasoningTokens } = call.usage;
  const error = call.error ? `${call.error.status === undefined ? '' : `HTTP ${call.error.status} `}${call.error.type}: ${call.error.message}` : undefined;
  const content = call.texts.system !== undefined || call.texts.input !== undefined || call.texts.output !== undefined ? call.texts : undefined;
  return compact({
    provider: call.provider,
    endpoint: call.endpoint,
    model: call.model,
    messageCount: call.messageCount,
    toolsProvided: call.toolsProvided,
    toolCalls: call.toolCalls,
    stopReason: call.stopReason,
    inputTokens,
    outputTokens,
    cachedTokens,
    reasoningTokens,
    ttftMs: call.ttftMs,
    error,
    content,
  });
}

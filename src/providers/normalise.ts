import type { ContentInput, RecordInput } from '../record/types.js';
import type { NormalisedCall, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { compact } from './json-fields.js';
import { errorIdentifier, errorSummary } from './errors.js';

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
 *
 * An upstream error becomes `error` (its status, type and code in a few words), `errorType` and
 * `errorCode` (when they are identifiers), and its message goes to `content.error`: providers
 * quote the offending input in their messages, so the message is kept only as the capture policy
 * keeps response text (a digest by default), never in the envelope.
 */
export function toRecordInput(call: NormalisedCall): RecordInput {
  const { inputTokens, outputTokens, cachedTokens, reasoningTokens } = call.usage;
  const failure = call.error;
  const texts: ContentInput = failure?.message === undefined ? call.texts : { ...call.texts, error: failure.message };
  const content = texts.system !== undefined || texts.input !== undefined || texts.output !== undefined || texts.error !== undefined ? texts : undefined;
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
    error: failure && errorSummary(failure),
    errorType: errorIdentifier(failure?.type),
    errorCode: errorIdentifier(failure?.code),
    content,
  });
}

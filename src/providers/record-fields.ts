import type { RecordInput } from '../record/types.js';
import { toRecordInput } from './normalise.js';
import type { NormalisedCall } from './types.js';
import type { Pricing } from './pricing.js';

/**
 * Values from the wire (an upstream's answer, a client's header) are not trusted to fit the
 * record schema: a bad one is dropped or cut here, so it can never cost the whole record.
 */
const IDENTIFIER_MAX = 256;

export const bounded = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value.slice(0, IDENTIFIER_MAX));
export const count = (value: number | undefined): number | undefined => (value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined);
export const millis = (value: number | undefined): number | undefined =>
  value !== undefined && Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) / 1000 : undefined;
export const usd = (value: number | undefined): number | undefined =>
  value !== undefined && Number.isFinite(value) && value >= 0 && value <= 1e9 ? value : undefined;

/**
 * What an adapter learned about one call, each value bounded to fit the record, and its cost from
 * the pricing table: the part of an `llm.call` record the gateway and the SDK wrappers share.
 */
export function boundedCallFacts(normalised: NormalisedCall, pricing: Pricing): RecordInput {
  const facts = toRecordInput(normalised);
  return {
    endpoint: facts.endpoint,
    model: bounded(facts.model),
    error: facts.error,
    errorType: facts.errorType,
    errorCode: facts.errorCode,
    inputTokens: count(facts.inputTokens),
    outputTokens: count(facts.outputTokens),
    cachedTokens: count(facts.cachedTokens),
    reasoningTokens: count(facts.reasoningTokens),
    ttftMs: millis(facts.ttftMs),
    costUsd: usd(pricing.costUsd(normalised.model, normalised.usage)),
    messageCount: count(facts.messageCount),
    toolsProvided: count(facts.toolsProvided),
    toolCalls: count(facts.toolCalls),
    stopReason: bounded(facts.stopReason),
    content: facts.content,
  };
}

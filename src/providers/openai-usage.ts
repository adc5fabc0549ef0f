import type { NormalisedUsage } from './types.js';
import { compact, countAt, objectAt } from './json-fields.js';

/**
 * OpenAI's `usage` of chat completions, legacy completions and embeddings.
 *
 * `prompt_tokens` counts the whole prompt, cached part included: `prompt_tokens_details.cached_tokens`
 * is a subset of it. `completion_tokens` counts every generated token, reasoning included: the
 * SDK's CompletionUsage documents that predicted-output tokens are "like reasoning tokens ...
 * still counted in the total completion tokens for purposes of billing" (openai-node,
 * src/resources/completions.ts), and real answers show it (prompt 1486 + completion 651 = total
 * 2137 with `reasoning_tokens: 512` inside the 651). So both map over as they are.
 */
export function completionUsage(usage: unknown): NormalisedUsage {
  return compact({
    inputTokens: countAt(usage, 'prompt_tokens'),
    outputTokens: countAt(usage, 'completion_tokens'),
    cachedTokens: countAt(objectAt(usage, 'prompt_tokens_details'), 'cached_tokens'),
    reasoningTokens: countAt(objectAt(usage, 'completion_tokens_details'), 'reasoning_tokens'),
  });
}

/**
 * The Responses API's `usage`: `input_tokens` includes `input_tokens_details.cached_tokens`, and
 * `output_tokens` includes `output_tokens_details.reasoning_tokens`, as in chat completions.
 */
export function responsesUsage(usage: unknown): NormalisedUsage {
  return compact({
    inputTokens: countAt(usage, 'input_tokens'),
    outputTokens: countAt(usage, 'output_tokens'),
    cachedTokens: countAt(objectAt(usage, 'input_tokens_details'), 'cached_tokens'),
    reasoningTokens: countAt(objectAt(usage, 'output_tokens_details'), 'reasoning_tokens'),
  });
}

import { isObject } from './json-fields.js';

/**
 * Removes token log-probabilities from an answer or stream event, in place. OpenAI's formats
 * repeat the output token by token in `logprobs` (chat and completions choices, Responses
 * deltas and parts), so once a text in them was redacted, they would give the original away.
 */
export function dropLogprobs(value: unknown, depth = 0): void {
  if (depth > 8) return;
  if (Array.isArray(value)) {
    for (const item of value) dropLogprobs(item, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  for (const key of Object.keys(value)) {
    if (key === 'logprobs') value[key] = null;
    else dropLogprobs(value[key], depth + 1);
  }
}

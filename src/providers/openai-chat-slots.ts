import { arrayAt, countAt, objectAt } from './json-fields.js';
import { outputTokenFields } from './output-token-limit.js';
import { contentSlots, fieldSlots, onChannel, typedTextParts } from './text-slots.js';
import type { StreamEvent, StreamTextSlot, TextSlot } from './types.js';

/**
 * Texts of OpenAI chat completions (`POST /v1/chat/completions`, `ChatCompletionCreateParams`,
 * `ChatCompletion`, `ChatCompletionChunk`).
 */

/**
 * Content parts that hold text: `text` in every role, and `refusal` parts in assistant history.
 * `image_url`, `input_audio` and `file` parts are not text.
 */
const chatTextPart = typedTextParts({ text: 'text', refusal: 'refusal' });

/**
 * Each message's `content` (every role: system, developer, user, assistant, tool), and an
 * assistant's earlier `refusal`. An assistant's `tool_calls[].function.arguments` are JSON for
 * the client's code, not prose for the model, and stay out.
 */
export function chatRequestTexts(body: Record<string, unknown>): TextSlot[] {
  return (arrayAt(body, 'messages') ?? []).flatMap((message) => [...contentSlots(message, 'content', chatTextPart), ...fieldSlots(message, 'refusal')]);
}

/** Each choice's `message.content` and `message.refusal`, in body order. */
export function chatResponseTexts(body: Record<string, unknown>): TextSlot[] {
  return (arrayAt(body, 'choices') ?? []).flatMap((choice) => {
    const message = objectAt(choice, 'message');
    return [...fieldSlots(message, 'content'), ...fieldSlots(message, 'refusal')];
  });
}

/**
 * A chunk's `choices[].delta.content` and `.refusal`. A choice's content and refusal are separate
 * texts, so they get separate channels: `0` and `0:refusal` for choice 0.
 */
export function chatStreamTexts(event: StreamEvent): StreamTextSlot[] {
  return (arrayAt(event.data, 'choices') ?? []).flatMap((choice) => {
    // The accumulator reads a choice without an index as choice 0; so does its channel.
    const index = countAt(choice, 'index') ?? 0;
    const delta = objectAt(choice, 'delta');
    return [...onChannel(fieldSlots(delta, 'content'), `${index}`, 'delta'), ...onChannel(fieldSlots(delta, 'refusal'), `${index}:refusal`, 'delta')];
  });
}

/**
 * `max_completion_tokens` replaced `max_tokens`, which o-series models refuse; older clients and
 * compatible servers still send `max_tokens`, and some send both.
 */
export const chatOutputTokenLimit = outputTokenFields('max_completion_tokens', 'max_tokens');

import { arrayAt, countAt, isObject, objectAt, stringAt } from './json-fields.js';
import { outputTokenFields } from './output-token-limit.js';
import { contentSlots, fieldSlots, onChannel, typedTextParts } from './text-slots.js';
import type { StreamEvent, StreamTextSlot, TextSlot } from './types.js';

/**
 * Texts of the OpenAI Responses API (`POST /v1/responses`, `ResponseCreateParams`, `Response`,
 * `ResponseStreamEvent`).
 */

/**
 * Content parts that hold text: `input_text` in messages and tool outputs, `output_text` and
 * `refusal` in assistant messages (answers, and earlier answers sent back as input).
 * `input_image`, `input_file` and `input_audio` are not text.
 */
const responsesTextPart = typedTextParts({ input_text: 'text', output_text: 'text', refusal: 'refusal' });

/**
 * `instructions`, then `input`: a string, or items. Message items (typed `message` or untyped
 * "easy" messages) hold `content`; tool outputs (`function_call_output`, `custom_tool_call_output`,
 * `local_shell_call_output`, ...: every type ending in `_output`) hold `output`, a string or text
 * parts. Calls (`function_call.arguments`), reasoning and item references are not text for the model.
 */
export function responsesRequestTexts(body: Record<string, unknown>): TextSlot[] {
  const slots = fieldSlots(body, 'instructions');
  const input = isObject(body) ? body.input : undefined;
  if (!Array.isArray(input)) return [...slots, ...fieldSlots(body, 'input')];
  for (const item of input) {
    const type = stringAt(item, 'type');
    if (type === undefined || type === 'message') slots.push(...contentSlots(item, 'content', responsesTextPart));
    else if (type.endsWith('_output')) slots.push(...contentSlots(item, 'output', responsesTextPart));
  }
  return slots;
}

/** The text parts of an output item, by content index. Only `message` items have them. */
function messagePartSlots(item: unknown): TextSlot[][] {
  if (stringAt(item, 'type') !== 'message') return [];
  return (arrayAt(item, 'content') ?? []).map((part) => responsesTextPart(part));
}

/**
 * The text and refusal parts of `output[]` messages, then `output_text`: the SDKs compute that
 * joined copy themselves, but a server that sends it sends the answer twice.
 */
export function responsesResponseTexts(body: Record<string, unknown>): TextSlot[] {
  const parts = (arrayAt(body, 'output') ?? []).flatMap((item) => messagePartSlots(item).flat());
  return [...parts, ...fieldSlots(body, 'output_text')];
}

/** Every text part of a response's output, whole, on the channel of the deltas that built it. */
function outputSlots(response: unknown): StreamTextSlot[] {
  return (arrayAt(response, 'output') ?? []).flatMap((item, outputIndex) => itemSlots(item, outputIndex));
}

function itemSlots(item: unknown, outputIndex: number): StreamTextSlot[] {
  return messagePartSlots(item).flatMap((slots, contentIndex) => onChannel(slots, `${outputIndex}:${contentIndex}`, 'whole'));
}

/**
 * Deltas: `response.output_text.delta` and `response.refusal.delta`, on channel
 * `${output_index}:${content_index}` (a refusal is a content part of its own, so it has its own
 * content index). The API then repeats each part whole, and every one of those copies is a
 * `whole` slot on the same channel, so that a redacted delta stream cannot leak the original
 * through a closing event: `response.output_text.done` (`text`), `response.refusal.done`
 * (`refusal`), any event with a `part` (`response.content_part.added` / `.done`), with an `item`
 * (`response.output_item.added` / `.done`), or with a `response` (`response.created`,
 * `.in_progress`, `.completed`, `.incomplete`, `.failed`). Those are found by the object they
 * carry, not by their name, so a copy in an event type added later is found too.
 */
export function responsesStreamTexts(event: StreamEvent): StreamTextSlot[] {
  const data = event.data;
  const outputIndex = countAt(data, 'output_index') ?? 0;
  const channel = `${outputIndex}:${countAt(data, 'content_index') ?? 0}`;
  switch (stringAt(data, 'type')) {
    case 'response.output_text.delta':
    case 'response.refusal.delta':
      return onChannel(fieldSlots(data, 'delta'), channel, 'delta');
    case 'response.output_text.done':
      return onChannel(fieldSlots(data, 'text'), channel, 'whole');
    case 'response.refusal.done':
      return onChannel(fieldSlots(data, 'refusal'), channel, 'whole');
    default:
      return [
        ...onChannel(responsesTextPart(objectAt(data, 'part')), channel, 'whole'),
        ...itemSlots(objectAt(data, 'item'), outputIndex),
        ...outputSlots(objectAt(data, 'response')),
      ];
  }
}

export const responsesOutputTokenLimit = outputTokenFields('max_output_tokens');

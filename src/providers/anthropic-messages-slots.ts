import { arrayAt, countAt, MAX_CONTENT_DEPTH, objectAt, stringAt } from './json-fields.js';
import { outputTokenFields } from './output-token-limit.js';
import { contentSlots, fieldSlots, onChannel } from './text-slots.js';
import type { StreamEvent, StreamTextSlot, TextSlot } from './types.js';

/**
 * Texts of Anthropic messages (`POST /v1/messages`, `MessageCreateParams`, `Message`,
 * `RawMessageStreamEvent`).
 */

/**
 * One content block's texts: a `text` block's `text`; the `content` of a `tool_result` or a
 * `search_result` (a string or nested blocks); a `document`'s plain-text source (`source.type`
 * `text` holds it in `data`, `content` in nested blocks). Images, PDFs given as base64 or URL,
 * `tool_use` input (JSON for the client's code) and signed `thinking` give none.
 */
function blockSlots(block: unknown, depth: number): TextSlot[] {
  const nested = (inner: unknown) => (depth < MAX_CONTENT_DEPTH ? blockSlots(inner, depth + 1) : []);
  switch (stringAt(block, 'type')) {
    case 'text':
      return fieldSlots(block, 'text');
    case 'tool_result':
    case 'search_result':
      return contentSlots(block, 'content', nested);
    case 'document': {
      const source = objectAt(block, 'source');
      const kind = stringAt(source, 'type');
      if (kind === 'text') return fieldSlots(source, 'data');
      return kind === 'content' ? contentSlots(source, 'content', nested) : [];
    }
    default:
      return [];
  }
}

const topLevelBlock = (block: unknown) => blockSlots(block, 0);

/** `system` (a string or text blocks), then each message's `content`, in body order. */
export function messagesRequestTexts(body: Record<string, unknown>): TextSlot[] {
  const messages = (arrayAt(body, 'messages') ?? []).flatMap((message) => contentSlots(message, 'content', topLevelBlock));
  return [...contentSlots(body, 'system', topLevelBlock), ...messages];
}

/** The `text` blocks of an answer's `content`; `thinking` and `tool_use` blocks are not its text. */
export function messagesResponseTexts(body: Record<string, unknown>): TextSlot[] {
  return (arrayAt(body, 'content') ?? []).flatMap(answerBlockSlots);
}

function answerBlockSlots(block: unknown): TextSlot[] {
  return stringAt(block, 'type') === 'text' ? fieldSlots(block, 'text') : [];
}

/**
 * Deltas: `content_block_delta` with a `text_delta`, on the block's `index` as channel.
 * `content_block_start` and `message_start` carry the block (or the message shell) as it begins,
 * normally with empty text; whatever text they do carry is a `whole` slot on the same channel,
 * because the SDKs start the block's text from it.
 */
export function messagesStreamTexts(event: StreamEvent): StreamTextSlot[] {
  const data = event.data;
  const channel = `${countAt(data, 'index') ?? 0}`;
  switch (stringAt(data, 'type')) {
    case 'content_block_delta': {
      const delta = objectAt(data, 'delta');
      return stringAt(delta, 'type') === 'text_delta' ? onChannel(fieldSlots(delta, 'text'), channel, 'delta') : [];
    }
    case 'content_block_start':
      return onChannel(answerBlockSlots(objectAt(data, 'content_block')), channel, 'whole');
    case 'message_start':
      return (arrayAt(objectAt(data, 'message'), 'content') ?? []).flatMap((block, index) => onChannel(answerBlockSlots(block), `${index}`, 'whole'));
    default:
      return [];
  }
}

/** Anthropic requires `max_tokens` on every request. */
export const messagesOutputTokenLimit = outputTokenFields('max_tokens');

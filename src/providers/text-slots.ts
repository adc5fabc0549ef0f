import { isObject, stringAt } from './json-fields.js';
import type { StreamTextSlot, TextSlot } from './types.js';

/**
 * Building blocks for the adapters' text slots. Every reader takes `unknown`, because bodies come
 * from outside: a field of the wrong type gives no slot, never an exception. Each slot points at
 * one string field, so a replacement lands exactly where the original was and nothing else moves.
 */

/** The string at `holder[key]` (an object's field or an array's element), or nothing. */
export function fieldSlots(holder: unknown, key: string | number): TextSlot[] {
  if (!isObject(holder) && !Array.isArray(holder)) return [];
  const fields = holder as Record<string | number, unknown>;
  const text = fields[key];
  if (typeof text !== 'string') return [];
  return [
    {
      text,
      set: (replacement: string) => {
        fields[key] = replacement;
      },
    },
  ];
}

/** Reads the text slots of one part of a content list (a content part, a content block). */
export type PartReader = (part: unknown) => TextSlot[];

/**
 * A reader for parts whose `type` says which field holds their text, e.g. `{ text: 'text',
 * refusal: 'refusal' }`; parts of other types (images, audio, files) give none.
 */
export function typedTextParts(textFieldByType: Readonly<Record<string, string>>): PartReader {
  // A Map, so that a part typed `constructor` or `__proto__` finds nothing inherited.
  const fields = new Map(Object.entries(textFieldByType));
  return (part) => {
    const type = stringAt(part, 'type');
    const field = type === undefined ? undefined : fields.get(type);
    return field === undefined ? [] : fieldSlots(part, field);
  };
}

/**
 * A message content as both providers send it: a string (which stays a string when replaced) or
 * a list of parts, each read by `readPart`.
 */
export function contentSlots(holder: unknown, key: string, readPart: PartReader): TextSlot[] {
  const content = isObject(holder) ? holder[key] : undefined;
  if (typeof content === 'string') return fieldSlots(holder, key);
  return Array.isArray(content) ? content.flatMap((part) => readPart(part)) : [];
}

/**
 * A prompt as embeddings' `input` and legacy completions' `prompt` take it: a string, or a list
 * whose string members are texts. Token-id prompts (numbers, or lists of them) are not text.
 */
export function promptSlots(holder: unknown, key: string): TextSlot[] {
  const prompt = isObject(holder) ? holder[key] : undefined;
  if (Array.isArray(prompt)) return prompt.flatMap((_, index) => fieldSlots(prompt, index));
  return fieldSlots(holder, key);
}

/** Slots of one stream event, all belonging to `channel`. */
export function onChannel(slots: readonly TextSlot[], channel: string, kind: StreamTextSlot['kind']): StreamTextSlot[] {
  return slots.map((slot) => ({ text: slot.text, set: slot.set, channel, kind }));
}

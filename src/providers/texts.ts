import { arrayAt, isObject, MAX_CONTENT_DEPTH, stringAt } from './json-fields.js';

/**
 * How prompt and answer texts are laid out before they are digested. The layout matters only in
 * being stable: a streamed and a plain answer with the same content must give the same text, so
 * equal calls get equal digests whichever way they travelled.
 */

/** Text of a message `content`: a string, or the text of its parts (OpenAI and Anthropic both use `text`). */
export function contentText(content: unknown): string | undefined {
  return nestedContentText(content, 0);
}

function nestedContentText(content: unknown, depth: number): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || depth > MAX_CONTENT_DEPTH) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else {
      // `text` covers OpenAI's text/input_text/output_text parts and Anthropic's text blocks;
      // tool results carry their own `content`, nested one level.
      const text = stringAt(part, 'text') ?? nestedContentText(isObject(part) ? part.content : undefined, depth + 1);
      if (text !== undefined) texts.push(text);
    }
  }
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** One line per message, `role: text`, skipping messages with no text at all. */
export function conversationText(lines: ReadonlyArray<{ role: string; text: string | undefined }>): string | undefined {
  const kept = lines.filter((line): line is { role: string; text: string } => line.text !== undefined);
  return kept.length > 0 ? kept.map((line) => `${line.role}: ${line.text}`).join('\n') : undefined;
}

export interface ToolCallText {
  name: string;
  arguments: string;
}

/**
 * The answer as one text: the text parts in order, then each tool call as `[tool name] arguments`.
 * Tool arguments are part of what the model said, so they are digested with it.
 */
export function assembleOutput(textParts: readonly string[], toolCalls: readonly ToolCallText[]): string | undefined {
  const pieces = textParts.filter((text) => text.length > 0);
  for (const call of toolCalls) pieces.push(`[tool ${call.name}] ${call.arguments}`);
  return pieces.length > 0 ? pieces.join('\n') : undefined;
}

/**
 * Tool arguments in one spelling: JSON re-serialised compactly when it parses, else as sent.
 * Anthropic returns a parsed `input` object in plain answers but streams it as `partial_json`
 * fragments with the model's own whitespace; normalising makes both give the same text.
 */
export function canonicalArguments(raw: unknown): string {
  if (typeof raw === 'string') {
    try {
      return JSON.stringify(JSON.parse(raw));
    } catch {
      return raw;
    }
  }
  return JSON.stringify(raw ?? {});
}

/** Several texts as one, blank-line separated, skipping empty ones (e.g. system and developer messages). */
export function joinTexts(texts: ReadonlyArray<string | undefined>): string | undefined {
  const kept = texts.filter((text): text is string => text !== undefined && text.length > 0);
  return kept.length > 0 ? kept.join('\n\n') : undefined;
}

/** How many tools a request offers in its `tools` array; undefined when it has none. */
export function toolCount(body: unknown): number | undefined {
  const tools = arrayAt(body, 'tools');
  return tools === undefined ? undefined : tools.length;
}

/**
 * A prompt given as a string or a list of them (embeddings' `input`, legacy completions' `prompt`),
 * one per line. Token-id prompts (lists of numbers) are not text and give nothing.
 */
export function promptText(prompt: unknown): string | undefined {
  if (typeof prompt === 'string') return prompt;
  const strings = Array.isArray(prompt) ? prompt.filter((item): item is string => typeof item === 'string') : [];
  return strings.length > 0 ? strings.join('\n') : undefined;
}

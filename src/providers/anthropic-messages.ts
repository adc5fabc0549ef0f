import type { AccumulatorOptions, CallError, NormalisedUsage, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { arrayAt, booleanAt, compact, countAt, isObject, objectAt, readJson, stringAt, type JsonObject } from './json-fields.js';
import { assembleOutput, canonicalArguments, contentText, conversationText, type ToolCallText } from './texts.js';
import { readUpstreamError } from './errors.js';
import { JsonStreamAccumulator } from './stream-bookkeeping.js';
import { messagesOutputTokenLimit, messagesRequestTexts, messagesResponseTexts, messagesStreamTexts } from './anthropic-messages-slots.js';
import { answerProblem, invalidAnswer, type AnswerShape, type StreamShape } from './answer-validity.js';

/** Anthropic messages: `POST /v1/messages`. */
export const anthropicMessagesAdapter: ProviderAdapter = {
  provider: 'anthropic',
  endpoint: 'messages',
  path: '/v1/messages',
  describeRequest: describeMessagesRequest,
  describeResponse: describeMessagesResponse,
  streamAccumulator: (options?: AccumulatorOptions) => new MessagesStreamAccumulator(options),
  requestTexts: messagesRequestTexts,
  responseTexts: messagesResponseTexts,
  streamTexts: messagesStreamTexts,
  outputTokenLimit: messagesOutputTokenLimit,
};

/** `system` is a top-level string or list of text blocks; `messages` alternate user and assistant. */
function describeMessagesRequest(raw: unknown): RequestFacts {
  const body = readJson(raw);
  const messages = arrayAt(body, 'messages');
  const conversation = (messages ?? []).map((message) => ({
    role: stringAt(message, 'role') ?? 'unknown',
    text: messageText(isObject(message) ? message.content : undefined),
  }));
  return compact({
    model: stringAt(body, 'model'),
    stream: booleanAt(body, 'stream') === true,
    messageCount: messages?.length,
    toolsProvided: arrayAt(body, 'tools')?.length,
    texts: compact({ system: contentText(isObject(body) ? body.system : undefined), input: conversationText(conversation) }),
  });
}

/** A history message: its text and tool results, then any `tool_use` blocks it made, as in an answer. */
function messageText(content: unknown): string | undefined {
  if (!Array.isArray(content)) return contentText(content);
  const texts: string[] = [];
  const calls: ToolCallText[] = [];
  for (const block of content) {
    if (stringAt(block, 'type') === 'tool_use') calls.push(toolUseText(block));
    else {
      const text = contentText([block]);
      if (text !== undefined) texts.push(text);
    }
  }
  return assembleOutput(texts, calls);
}

function toolUseText(block: unknown): ToolCallText {
  return { name: stringAt(block, 'name') ?? 'unknown', arguments: canonicalArguments(isObject(block) ? block.input : undefined) };
}

/**
 * Anthropic's `input_tokens` counts only the prompt tokens after the last cache breakpoint: cache
 * reads and cache writes are reported beside it, so the whole prompt is the sum of the three
 * (SDK `Usage`: `input_tokens`, `cache_creation_input_tokens`, `cache_read_input_tokens`).
 * `output_tokens` includes thinking: `output_tokens_details.thinking_tokens` is "always <=
 * output_tokens" and `output_tokens` "remains the inclusive, authoritative total used for billing"
 * (SDK `OutputTokensDetails`). Older answers have no such detail, and then thinking is unknown.
 */
export function anthropicUsage(usage: unknown): NormalisedUsage {
  const uncached = countAt(usage, 'input_tokens');
  const cacheRead = countAt(usage, 'cache_read_input_tokens');
  const cacheWrite = countAt(usage, 'cache_creation_input_tokens');
  return compact({
    inputTokens: uncached === undefined ? undefined : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0),
    outputTokens: countAt(usage, 'output_tokens'),
    cachedTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: countAt(objectAt(usage, 'output_tokens_details'), 'thinking_tokens'),
  });
}

/** Text blocks are the answer; `tool_use` blocks its tool calls; `thinking` blocks are reasoning, not output. */
function readContent(blocks: readonly unknown[]): { texts: string[]; calls: ToolCallText[] } {
  const texts: string[] = [];
  const calls: ToolCallText[] = [];
  for (const block of blocks) {
    const type = stringAt(block, 'type');
    if (type === 'text') texts.push(stringAt(block, 'text') ?? '');
    else if (type === 'tool_use') calls.push(toolUseText(block));
  }
  return { texts, calls };
}

/** A message, and its event stream, as the validity check knows them (see answer-validity.ts). */
const MESSAGE_ANSWER: AnswerShape = {
  name: 'Anthropic message',
  requires: '"type": "message" or a "content" array',
  isAnswer: (body) => body.type === 'message' || Array.isArray(body.content),
};
const MESSAGE_STREAM: StreamShape = { name: 'Anthropic message stream', event: 'message_start event', isEvent: (data) => data.type === 'message_start' };

function describeMessagesResponse(raw: unknown, status: number): ResponseFacts {
  const body = readJson(raw);
  if (status >= 400 || stringAt(body, 'type') === 'error') return { usage: {}, error: readUpstreamError(body, status) };
  const problem = answerProblem(MESSAGE_ANSWER, raw, body);
  if (problem !== undefined) return { usage: {}, error: invalidAnswer(MESSAGE_ANSWER, status, problem) };
  const { texts, calls } = readContent(arrayAt(body, 'content') ?? []);
  return compact({
    model: stringAt(body, 'model'),
    usage: anthropicUsage(objectAt(body, 'usage')),
    stopReason: stringAt(body, 'stop_reason'),
    toolCalls: calls.length,
    output: assembleOutput(texts, calls),
  });
}

/**
 * Anthropic's stream: `message_start` (the message shell, with input and cache usage),
 * `content_block_start` / `content_block_delta` / `content_block_stop` per content block
 * (`text_delta`, `input_json_delta` with `partial_json` fragments of a tool's input,
 * `thinking_delta`, `signature_delta`), `message_delta` (stop reason, and usage whose counts are
 * cumulative totals, so they replace rather than add), `message_stop`. `ping` events may come
 * anywhere; an `error` event (e.g. `overloaded_error`) may end the stream inside a 200 response.
 */
class MessagesStreamAccumulator extends JsonStreamAccumulator {
  readonly #blocks = new Map<number, JsonObject>();
  /** `partial_json` fragments per tool block, joined once at the end. */
  readonly #toolJson = new Map<number, string[]>();
  #usage: JsonObject = {};
  #model: string | undefined;
  #stopReason: string | undefined;
  #error: CallError | undefined;

  constructor(options?: AccumulatorOptions) {
    super(MESSAGE_STREAM, options);
  }

  protected override onDone(): void {
    // Anthropic streams end with `message_stop`, not `[DONE]`.
  }

  protected override read(data: JsonObject): void {
    switch (data.type) {
      case 'message_start': {
        const message = objectAt(data, 'message');
        this.#model = stringAt(message, 'model');
        this.#mergeUsage(objectAt(message, 'usage'));
        return;
      }
      case 'content_block_start': {
        const block = objectAt(data, 'content_block');
        const index = countAt(data, 'index');
        if (block && index !== undefined) this.#blocks.set(index, { ...block });
        return;
      }
      case 'content_block_delta':
        return this.#readDelta(countAt(data, 'index'), objectAt(data, 'delta'));
      case 'message_delta':
        this.#stopReason = stringAt(objectAt(data, 'delta'), 'stop_reason') ?? this.#stopReason;
        this.#mergeUsage(objectAt(data, 'usage'));
        return;
      case 'message_stop':
        return this.book.completed();
      case 'error':
        this.#error = readUpstreamError(data, undefined);
        return;
      default:
        // `ping`, `content_block_stop` and event types added later carry nothing to record.
        return;
    }
  }

  #readDelta(index: number | undefined, delta: JsonObject | undefined): void {
    if (index === undefined || !delta) return this.book.malformed();
    const block = this.#blocks.get(index) ?? { type: 'unknown' };
    this.#blocks.set(index, block);
    switch (delta.type) {
      case 'text_delta':
        block.text = (stringAt(block, 'text') ?? '') + (stringAt(delta, 'text') ?? '');
        break;
      case 'input_json_delta': {
        const fragments = this.#toolJson.get(index) ?? [];
        fragments.push(stringAt(delta, 'partial_json') ?? '');
        this.#toolJson.set(index, fragments);
        break;
      }
      case 'thinking_delta':
        block.thinking = (stringAt(block, 'thinking') ?? '') + (stringAt(delta, 'thinking') ?? '');
        break;
      default:
        // `signature_delta` and `citations_delta` are not content tokens.
        return;
    }
    this.book.content();
  }

  /** Counts present in a later event replace earlier ones; a null or missing count keeps the earlier value. */
  #mergeUsage(usage: JsonObject | undefined): void {
    for (const [key, value] of Object.entries(usage ?? {})) if (value !== null && value !== undefined) this.#usage[key] = value;
  }

  override result(): ResponseFacts {
    const blocks = [...this.#blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, block]) => {
        const json = this.#toolJson.get(index)?.join('');
        // A tool called without arguments streams no fragments (or an empty one): its input stays `{}`.
        // The joined text is kept as it is; canonicalArguments parses it if it is whole JSON, so a
        // stream cut mid-arguments still yields what arrived.
        return json ? { ...block, input: json } : block;
      });
    const { texts, calls } = readContent(blocks);
    return compact({
      model: this.#model,
      usage: anthropicUsage(this.#usage),
      stopReason: this.#stopReason,
      toolCalls: calls.length,
      output: assembleOutput(texts, calls),
      error: this.#error,
      stream: this.book.facts(),
    });
  }
}

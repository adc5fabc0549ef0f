import type { AccumulatorOptions, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { arrayAt, booleanAt, compact, countAt, isObject, objectAt, readJson, stringAt } from './json-fields.js';
import { assembleOutput, contentText, conversationText, joinTexts, type ToolCallText } from './texts.js';
import { completionUsage } from './openai-usage.js';
import { readUpstreamError } from './errors.js';
import { JsonStreamAccumulator } from './stream-bookkeeping.js';
import type { JsonObject } from './json-fields.js';
import { chatOutputTokenLimit, chatRequestTexts, chatResponseTexts, chatStreamTexts } from './openai-chat-slots.js';
import { answerProblem, invalidAnswer, objectOrArray, type AnswerShape, type StreamShape } from './answer-validity.js';

/** Roles whose messages are instructions rather than conversation. `developer` replaces `system` for o-series models. */
const SYSTEM_ROLES = new Set(['system', 'developer']);

/** OpenAI chat completions: `POST /v1/chat/completions`. */
export const openAIChatAdapter: ProviderAdapter = {
  provider: 'openai',
  endpoint: 'chat.completions',
  path: '/v1/chat/completions',
  describeRequest: describeChatRequest,
  describeResponse: describeChatResponse,
  streamAccumulator: (options?: AccumulatorOptions) => new ChatStreamAccumulator(options),
  requestTexts: chatRequestTexts,
  responseTexts: chatResponseTexts,
  streamTexts: chatStreamTexts,
  outputTokenLimit: chatOutputTokenLimit,
};

function describeChatRequest(raw: unknown): RequestFacts {
  const body = readJson(raw);
  const messages = arrayAt(body, 'messages') ?? [];
  const system: Array<string | undefined> = [];
  const conversation: Array<{ role: string; text: string | undefined }> = [];
  for (const message of messages) {
    const role = stringAt(message, 'role') ?? 'unknown';
    const text = contentText(isObject(message) ? message.content : undefined);
    if (SYSTEM_ROLES.has(role)) system.push(text);
    else conversation.push({ role, text: messageText(text, toolCallsOf(message)) });
  }
  // `functions` is the deprecated predecessor of `tools`; older clients still send it.
  const tools = arrayAt(body, 'tools') ?? arrayAt(body, 'functions');
  return compact({
    model: stringAt(body, 'model'),
    stream: booleanAt(body, 'stream') === true,
    messageCount: arrayAt(body, 'messages')?.length,
    toolsProvided: tools?.length,
    texts: compact({ system: joinTexts(system), input: conversationText(conversation) }),
  });
}

/** An assistant message in the history may carry tool calls instead of, or beside, text. */
function messageText(text: string | undefined, calls: ToolCallText[]): string | undefined {
  return calls.length === 0 ? text : assembleOutput(text === undefined ? [] : [text], calls);
}

function toolCallsOf(message: unknown): ToolCallText[] {
  const calls: ToolCallText[] = [];
  for (const call of arrayAt(message, 'tool_calls') ?? []) {
    // Function tools send JSON `arguments`; custom (free-form) tools send a plain `input`.
    const fn = objectAt(call, 'function') ?? objectAt(call, 'custom');
    calls.push({ name: stringAt(fn, 'name') ?? 'unknown', arguments: stringAt(fn, 'arguments') ?? stringAt(fn, 'input') ?? '' });
  }
  // The deprecated single `function_call` of older models.
  const legacy = objectAt(message, 'function_call');
  if (legacy) calls.push({ name: stringAt(legacy, 'name') ?? 'unknown', arguments: stringAt(legacy, 'arguments') ?? '' });
  return calls;
}

/** A chat completion, and a stream of its chunks, as the validity check knows them (see answer-validity.ts). */
const CHAT_ANSWER: AnswerShape = {
  name: 'OpenAI chat completion',
  requires: '"object": "chat.completion" or a "choices" array',
  isAnswer: objectOrArray('chat.completion', 'choices'),
};
const CHAT_STREAM: StreamShape = {
  name: 'OpenAI chat completion stream',
  event: 'chat.completion.chunk event',
  isEvent: objectOrArray('chat.completion.chunk', 'choices'),
};

function describeChatResponse(raw: unknown, status: number): ResponseFacts {
  const body = readJson(raw);
  if (status >= 400 || objectAt(body, 'error')) return { usage: {}, error: readUpstreamError(body, status) };
  const problem = answerProblem(CHAT_ANSWER, raw, body);
  if (problem !== undefined) return { usage: {}, error: invalidAnswer(CHAT_ANSWER, status, problem) };
  const choices = [...(arrayAt(body, 'choices') ?? [])].sort((a, b) => (countAt(a, 'index') ?? 0) - (countAt(b, 'index') ?? 0));
  const texts: string[] = [];
  const calls: ToolCallText[] = [];
  for (const choice of choices) {
    const message = objectAt(choice, 'message');
    texts.push(...[stringAt(message, 'content'), stringAt(message, 'refusal')].filter((text): text is string => text !== undefined));
    calls.push(...toolCallsOf(message));
  }
  return compact({
    model: stringAt(body, 'model'),
    usage: completionUsage(objectAt(body, 'usage')),
    stopReason: stringAt(choices[0], 'finish_reason'),
    toolCalls: choices.length > 0 ? calls.length : undefined,
    output: assembleOutput(texts, calls),
  });
}

interface ChoiceState {
  content: string;
  refusal: string;
  finishReason?: string;
  /** Tool calls by their `index` within the choice; fragments of `arguments` arrive in order. */
  calls: Map<number, ToolCallText>;
}

/**
 * Chat completion chunks: `choices[].delta` carries `content`, `refusal` and `tool_calls`
 * fragments (a call's `id` and `function.name` come once, its `function.arguments` in pieces,
 * all keyed by the call's `index`); `finish_reason` arrives on the last chunk of each choice.
 * Usage comes only when the request set `stream_options.include_usage`, in a final chunk with
 * empty `choices`. The stream ends with `data: [DONE]`; an error mid-stream is `{"error": {...}}`.
 */
class ChatStreamAccumulator extends JsonStreamAccumulator {
  readonly #choices = new Map<number, ChoiceState>();
  #model: string | undefined;
  #usage: unknown;
  #error: ResponseFacts['error'];

  constructor(options?: AccumulatorOptions) {
    super(CHAT_STREAM, options);
  }

  protected override read(chunk: JsonObject): void {
    if (isObject(chunk.error)) {
      this.#error = readUpstreamError(chunk, undefined);
      return;
    }
    this.#model ??= stringAt(chunk, 'model');
    if (isObject(chunk.usage)) this.#usage = chunk.usage;
    for (const choice of arrayAt(chunk, 'choices') ?? []) this.#readChoice(choice);
  }

  #readChoice(choice: unknown): void {
    const index = countAt(choice, 'index') ?? 0;
    let state = this.#choices.get(index);
    if (!state) {
      state = { content: '', refusal: '', calls: new Map() };
      this.#choices.set(index, state);
    }
    const delta = objectAt(choice, 'delta');
    const content = stringAt(delta, 'content') ?? '';
    const refusal = stringAt(delta, 'refusal') ?? '';
    // Some OpenAI-compatible servers stream reasoning as `reasoning_content`: a first token all the same.
    const reasoning = stringAt(delta, 'reasoning_content') ?? stringAt(delta, 'reasoning') ?? '';
    state.content += content;
    state.refusal += refusal;
    const toolDeltas = arrayAt(delta, 'tool_calls') ?? [];
    for (const toolDelta of toolDeltas) this.#readToolDelta(state, toolDelta);
    if (content || refusal || reasoning || toolDeltas.length > 0) this.book.content();
    state.finishReason = stringAt(choice, 'finish_reason') ?? state.finishReason;
  }

  #readToolDelta(state: ChoiceState, toolDelta: unknown): void {
    const index = countAt(toolDelta, 'index') ?? state.calls.size;
    const fn = objectAt(toolDelta, 'function');
    const call = state.calls.get(index) ?? { name: 'unknown', arguments: '' };
    call.name = stringAt(fn, 'name') ?? call.name;
    call.arguments += stringAt(fn, 'arguments') ?? '';
    state.calls.set(index, call);
  }

  override result(): ResponseFacts {
    const ordered = [...this.#choices.entries()].sort(([a], [b]) => a - b).map(([, state]) => state);
    const texts = ordered.flatMap((state) => [state.content, state.refusal]);
    const calls = ordered.flatMap((state) => [...state.calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call));
    return compact({
      model: this.#model,
      usage: completionUsage(this.#usage),
      stopReason: ordered[0]?.finishReason,
      toolCalls: ordered.length > 0 ? calls.length : undefined,
      output: assembleOutput(texts, calls),
      error: this.#error,
      stream: this.book.facts(),
    });
  }
}

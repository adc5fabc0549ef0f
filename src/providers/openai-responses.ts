import type { AccumulatorOptions, CallError, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { arrayAt, booleanAt, compact, countAt, isObject, objectAt, readJson, stringAt, type JsonObject } from './json-fields.js';
import { assembleOutput, contentText, conversationText, joinTexts, type ToolCallText } from './texts.js';
import { responsesUsage } from './openai-usage.js';
import { readUpstreamError } from './errors.js';
import { JsonStreamAccumulator } from './stream-bookkeeping.js';
import { responsesOutputTokenLimit, responsesRequestTexts, responsesResponseTexts, responsesStreamTexts } from './openai-responses-slots.js';
import { answerProblem, invalidAnswer, objectOrArray, type AnswerShape, type StreamShape } from './answer-validity.js';

const SYSTEM_ROLES = new Set(['system', 'developer']);

/** OpenAI Responses API: `POST /v1/responses`. */
export const openAIResponsesAdapter: ProviderAdapter = {
  provider: 'openai',
  endpoint: 'responses',
  path: '/v1/responses',
  describeRequest: describeResponsesRequest,
  describeResponse: describeResponsesResponse,
  streamAccumulator: (options?: AccumulatorOptions) => new ResponsesStreamAccumulator(options),
  requestTexts: responsesRequestTexts,
  responseTexts: responsesResponseTexts,
  streamTexts: responsesStreamTexts,
  outputTokenLimit: responsesOutputTokenLimit,
};

/**
 * `input` is a string (one user message) or a list of items: messages (`role` + `content`, with
 * or without `type: "message"`), earlier `function_call`s and their `function_call_output`s.
 * `instructions` is the system prompt.
 */
function describeResponsesRequest(raw: unknown): RequestFacts {
  const body = readJson(raw);
  const input = isObject(body) ? body.input : undefined;
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : [];
  const system: Array<string | undefined> = [stringAt(body, 'instructions')];
  const conversation: Array<{ role: string; text: string | undefined }> = [];
  for (const item of items) {
    const type = stringAt(item, 'type');
    const role = stringAt(item, 'role');
    if (type === 'function_call' || type === 'custom_tool_call') {
      conversation.push({ role: 'assistant', text: assembleOutput([], [callText(item)]) });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      conversation.push({ role: 'tool', text: contentText(isObject(item) ? item.output : undefined) });
    } else if (role !== undefined && SYSTEM_ROLES.has(role)) {
      system.push(contentText(isObject(item) ? item.content : undefined));
    } else if (role !== undefined) {
      conversation.push({ role, text: contentText(isObject(item) ? item.content : undefined) });
    }
  }
  return compact({
    model: stringAt(body, 'model'),
    stream: booleanAt(body, 'stream') === true,
    messageCount: input === undefined ? undefined : items.length,
    toolsProvided: arrayAt(body, 'tools')?.length,
    texts: compact({ system: joinTexts(system), input: conversationText(conversation) }),
  });
}

function callText(item: unknown): ToolCallText {
  // Function calls carry JSON `arguments`; custom (free-form) tool calls carry a plain `input`.
  return { name: stringAt(item, 'name') ?? 'unknown', arguments: stringAt(item, 'arguments') ?? stringAt(item, 'input') ?? '' };
}

/**
 * Output items: `message`s hold `output_text` and `refusal` parts; every item type ending in
 * `_call` is a tool call (`function_call` and `custom_tool_call` run by the client, and the
 * hosted ones OpenAI runs itself: `web_search_call`, `file_search_call`, `mcp_call`, ...).
 * Only the client-run ones carry arguments worth digesting. Reasoning items are not output text.
 */
function readOutput(items: readonly unknown[]): { texts: string[]; calls: ToolCallText[]; toolCalls: number } {
  const texts: string[] = [];
  const calls: ToolCallText[] = [];
  let toolCalls = 0;
  for (const item of items) {
    const type = stringAt(item, 'type') ?? '';
    if (type === 'message') {
      for (const part of arrayAt(item, 'content') ?? []) {
        const text = stringAt(part, 'text') ?? stringAt(part, 'refusal');
        if (text !== undefined) texts.push(text);
      }
    } else if (type.endsWith('_call')) {
      toolCalls += 1;
      if (type === 'function_call' || type === 'custom_tool_call') calls.push(callText(item));
    }
  }
  return { texts, calls, toolCalls };
}

/** A `failed` response carries `error: {code, message}`; an `incomplete` one says why in `incomplete_details`. */
function responseFacts(response: JsonObject | undefined, items: readonly unknown[]): ResponseFacts {
  const { texts, calls, toolCalls } = readOutput(items);
  const failure = objectAt(response, 'error');
  const error: CallError | undefined = failure ? compact({ code: stringAt(failure, 'code'), message: stringAt(failure, 'message') }) : undefined;
  return compact({
    model: stringAt(response, 'model'),
    usage: responsesUsage(objectAt(response, 'usage')),
    stopReason: stringAt(objectAt(response, 'incomplete_details'), 'reason') ?? stringAt(response, 'status'),
    toolCalls,
    output: assembleOutput(texts, calls),
    error,
  });
}

/** A response, and its event stream, as the validity check knows them (see answer-validity.ts). */
const RESPONSE_ANSWER: AnswerShape = {
  name: 'OpenAI Responses API response',
  requires: '"object": "response" or an "output" array',
  isAnswer: objectOrArray('response', 'output'),
};
const RESPONSE_STREAM: StreamShape = {
  name: 'OpenAI Responses API stream',
  event: 'response.* event',
  isEvent: (data) => (stringAt(data, 'type') ?? '').startsWith('response.'),
};

function describeResponsesResponse(raw: unknown, status: number): ResponseFacts {
  const body = readJson(raw);
  if (status >= 400) return { usage: {}, error: readUpstreamError(body, status) };
  // A proxy's `{"error": {...}}` is an error, as a failed response's `error` is (read below).
  const problem = objectAt(body, 'error') ? undefined : answerProblem(RESPONSE_ANSWER, raw, body);
  if (problem !== undefined) return { usage: {}, error: invalidAnswer(RESPONSE_ANSWER, status, problem) };
  const response = isObject(body) ? body : undefined;
  return responseFacts(response, arrayAt(response, 'output') ?? []);
}

const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const CONTENT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
]);

/**
 * Responses API events each carry their `type` (also sent as the SSE `event:` name). Output is
 * built up per `output_index`: `response.output_item.added` opens an item, deltas fill its text
 * or arguments, `response.output_item.done` gives it whole. A terminal event
 * (`response.completed`, `response.incomplete`, `response.failed`) carries the whole response
 * with usage; items it lists replace what the deltas built. A stream cut short keeps the deltas.
 */
class ResponsesStreamAccumulator extends JsonStreamAccumulator {
  readonly #items = new Map<number, JsonObject>();
  #response: JsonObject | undefined;
  #error: CallError | undefined;

  constructor(options?: AccumulatorOptions) {
    super(RESPONSE_STREAM, options);
  }

  protected override onDone(): void {
    // The Responses API has no [DONE] sentinel; a compatible server that sends one ends nothing here.
  }

  protected override read(data: JsonObject): void {
    const type = stringAt(data, 'type') ?? '';
    if (CONTENT_DELTAS.has(type) && stringAt(data, 'delta')) this.book.content();
    if (type === 'error') {
      this.#error = compact({ code: stringAt(data, 'code'), message: stringAt(data, 'message') });
      return;
    }
    const response = objectAt(data, 'response');
    if (response) this.#readResponse(response, TERMINAL_EVENTS.has(type));
    const index = countAt(data, 'output_index');
    if (index === undefined) return;
    const item = objectAt(data, 'item');
    if (item && (type === 'response.output_item.added' || type === 'response.output_item.done')) {
      this.#items.set(index, { ...item, content: [...(arrayAt(item, 'content') ?? [])] });
      return;
    }
    const open = this.#items.get(index) ?? { type: 'unknown' };
    this.#items.set(index, open);
    this.#readDelta(open, type, data);
  }

  #readResponse(response: JsonObject, terminal: boolean): void {
    this.#response = response;
    if (!terminal) return;
    this.book.completed();
    const output = arrayAt(response, 'output');
    if (output && output.length > 0) {
      this.#items.clear();
      output.forEach((item, index) => {
        if (isObject(item)) this.#items.set(index, item);
      });
    }
  }

  #readDelta(item: JsonObject, type: string, data: JsonObject): void {
    const delta = stringAt(data, 'delta') ?? '';
    if (type === 'response.output_text.delta' || type === 'response.refusal.delta') {
      const key = type === 'response.output_text.delta' ? 'text' : 'refusal';
      const content = Array.isArray(item.content) ? item.content : (item.content = []);
      const at = countAt(data, 'content_index') ?? 0;
      const part = isObject(content[at]) ? (content[at] as JsonObject) : (content[at] = { type: key === 'text' ? 'output_text' : 'refusal' });
      part[key] = (stringAt(part, key) ?? '') + delta;
      item.type = 'message';
    } else if (type === 'response.function_call_arguments.delta') {
      item.arguments = (stringAt(item, 'arguments') ?? '') + delta;
    } else if (type === 'response.custom_tool_call_input.delta') {
      item.input = (stringAt(item, 'input') ?? '') + delta;
    }
  }

  override result(): ResponseFacts {
    const items = [...this.#items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
    const facts = responseFacts(this.#response, items);
    const error = this.#error ?? facts.error;
    return compact({ ...facts, error, stream: this.book.facts() });
  }
}

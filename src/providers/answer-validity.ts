import { isObject, type JsonObject } from './json-fields.js';
import type { CallError } from './types.js';

/**
 * What makes an answer valid in its wire format. An upstream (or a proxy in front of it) can
 * answer 200 with anything: an HTML page, an empty or cut-off body, JSON of another API, an event
 * stream with nothing of the format in it. Such an answer is not a success: the call is recorded
 * as an error with `errorType: invalid_response` and a reason that names what is wrong, in the
 * adapter's own words. The reason never quotes the body (it may hold prompt or answer text): it
 * says what is missing, not what was there. The client still gets the upstream's bytes unchanged.
 *
 * The check is structural and light, so that OpenAI-compatible servers that leave fields out
 * still pass. It applies only to answers that are not errors already (an HTTP status of 400 or
 * more, or the provider's error body or error event, is recorded as the upstream's error).
 *
 * A plain answer is valid when its body is a JSON object that has:
 * - chat completions: `"object": "chat.completion"` or a `choices` array;
 * - legacy completions: `"object": "text_completion"` or a `choices` array;
 * - Responses API: `"object": "response"` or an `output` array;
 * - embeddings: a `data` array;
 * - Anthropic messages: `"type": "message"` or a `content` array.
 * Else the reason is `empty body` (nothing, or only whitespace), `not JSON` (an HTML page,
 * garbage bytes, a JSON document cut short), `not a JSON object` (an array, a string, a number),
 * or `JSON without` what the format requires.
 *
 * An event stream that ended is valid when at least one event's data is an event of the format:
 * - chat completions: a chunk with `"object": "chat.completion.chunk"` or a `choices` array;
 * - legacy completions: a chunk with `"object": "text_completion"` or a `choices` array;
 * - Responses API: an event whose `type` begins with `response.`;
 * - Anthropic messages: `message_start`, with which every message stream begins;
 * - embeddings: none (the endpoint never streams).
 * Else the reason is `no event` (not a single one), `no event with JSON data` (only data that is
 * not JSON, or `[DONE]`), or `no` event of the format. A stream cut off before its end (a timeout,
 * a client that went away, a broken connection) is not judged: what it lacked may not have come yet.
 */

export const INVALID_RESPONSE = 'invalid_response';

/** A wire format's plain answer, as the check sees it. */
export interface AnswerShape {
  /** Its name in a reason, e.g. `OpenAI chat completion`. */
  readonly name: string;
  /** What a valid body has, in a reason, e.g. `"object": "chat.completion" or a "choices" array`. */
  readonly requires: string;
  isAnswer(body: JsonObject): boolean;
}

/** A wire format's event stream, as the check sees it. */
export interface StreamShape {
  /** Its name in a reason, e.g. `OpenAI chat completion stream`. */
  readonly name: string;
  /** The event it cannot lack, in a reason, e.g. `chat.completion.chunk event`. */
  readonly event: string;
  isEvent(data: JsonObject): boolean;
}

/** What the stream accumulators count for the check. */
export interface StreamCounts {
  /** An event of the format arrived. */
  recognised: boolean;
  /** Events whose data was a JSON object. */
  jsonEvents: number;
  /** Events whose data was not JSON, or not an object, or could not be read. */
  malformedEvents: number;
  /** `data: [DONE]` sentinels. */
  sentinels: number;
}

const decoder = new TextDecoder();

/**
 * Why a plain answer is not a valid one, or undefined when it is. `raw`: the body as the adapter
 * was given it (parsed JSON, or its text or bytes); `body`: the same, parsed (undefined when it is
 * not JSON).
 */
export function answerProblem(shape: AnswerShape, raw: unknown, body: unknown): string | undefined {
  if (isObject(body)) return shape.isAnswer(body) ? undefined : `JSON without ${shape.requires}`;
  if (raw === undefined || isBlank(raw)) return 'empty body';
  return body === undefined ? 'not JSON' : 'not a JSON object';
}

/** Why an event stream that ended is not a valid one, or undefined when it is. */
export function streamProblem(shape: StreamShape, counts: StreamCounts): string | undefined {
  if (counts.recognised) return undefined;
  if (counts.jsonEvents === 0) return counts.malformedEvents + counts.sentinels === 0 ? 'no event' : 'no event with JSON data';
  return `no ${shape.event}`;
}

/** The error of an answer that is not valid in its format: the reason is the gateway's or SDK wrapper's own words. */
export function invalidAnswer(shape: AnswerShape, status: number, problem: string): CallError {
  return { status, type: INVALID_RESPONSE, reason: `answer is not a valid ${shape.name}: ${problem}` };
}

/** The error of an event stream that is not valid in its format (its HTTP status is the caller's to record). */
export function invalidStream(shape: Pick<StreamShape, 'name'>, problem: string): CallError {
  return { type: INVALID_RESPONSE, reason: `stream is not a valid ${shape.name}: ${problem}` };
}

function isBlank(raw: unknown): boolean {
  if (typeof raw === 'string') return raw.trim() === '';
  if (raw instanceof Uint8Array) return raw.length === 0 || decoder.decode(raw).trim() === '';
  return false;
}

/** A body that names its `object` as `object`, or has an array `key`. */
export function objectOrArray(object: string, key: string): (body: JsonObject) => boolean {
  return (body) => body.object === object || Array.isArray(body[key]);
}

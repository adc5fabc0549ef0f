import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the fake upstream does with a request. Chosen by the `x-fake-scenario` header, or else by
 * a model named `fake-<scenario>` (for clients that cannot add headers); any other model gets
 * `answer`.
 *
 * - `answer`: a plain text answer (streamed when asked).
 * - `tool`: a tool call (to the request's first tool, or `get_weather`).
 * - `error-400`, `error-401`, `error-429`, `error-500`, `error-529`: that status with the
 *   provider's real error body (529 is Anthropic's "overloaded").
 * - `quote-400`: 400 with the provider's error body, its message quoting the request's text back,
 *   as providers and proxies do when they reject an input (`Invalid 'messages[1].content': ...`).
 * - `slow`: the answer after `x-fake-response-delay-ms` (default 5 s), for timeouts.
 * - `stall`: a stream that sends its first events and then nothing, never ending (a plain
 *   request gets its headers and no body).
 * - `stream-error`: a stream that fails part-way with the provider's in-stream error event.
 * - `malformed`: a stream with a comment, a non-JSON event and a line split across writes.
 *
 * Answers that are not valid in their wire format, each a 200 on every endpoint, plain or
 * streamed as asked (see fake-invalid.ts):
 * - `garbage`: bytes that are neither JSON nor UTF-8; streamed, events whose data is not JSON.
 * - `html`: an HTML error page (`text/html`), whatever was asked.
 * - `empty`: no body at all (`application/json`, or an event stream without a single event).
 * - `wrong-shape`: JSON of no format the endpoint speaks; streamed, such JSON events.
 * - `truncated`: the real answer cut in the middle of its JSON (of its first event, streamed).
 */
export const SCENARIOS = [
  'answer',
  'tool',
  'error-400',
  'error-401',
  'error-429',
  'error-500',
  'error-529',
  'quote-400',
  'slow',
  'stall',
  'stream-error',
  'malformed',
  'garbage',
  'html',
  'empty',
  'wrong-shape',
  'truncated',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export function chooseScenario(headers: IncomingHttpHeaders, model: string | undefined): Scenario {
  const named = headerValue(headers, 'x-fake-scenario') ?? (model?.startsWith('fake-') ? model.slice('fake-'.length) : undefined);
  if (named === undefined) return 'answer';
  if ((SCENARIOS as readonly string[]).includes(named)) return named as Scenario;
  throw new Error(`unknown fake scenario "${named}"; use one of ${SCENARIOS.join(', ')}`);
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Milliseconds from a header, or the fallback when the header is absent. */
export function headerMillis(headers: IncomingHttpHeaders, name: string, fallback: number): number {
  const value = headerValue(headers, name);
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/** The answer every plain scenario gives: multi-byte characters included, so streams split them. */
export const FAKE_ANSWER = 'Bonjour, 世界! The ledger keeps every call. ✅';
export const FAKE_TOOL = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } } as const;
export const FAKE_TOOL_ARGUMENTS = JSON.stringify(FAKE_TOOL.arguments);
/** Reasoning text the Anthropic fake "thinks" when the request enables thinking. */
export const FAKE_THINKING = 'The user wants a greeting; answer briefly.';

/** Token counts the fake reports, so tests can check exactly what was recorded and priced. */
export const FAKE_OPENAI_USAGE = { prompt: 50, cached: 20, completion: 12, reasoning: 4 } as const;
export const FAKE_ANTHROPIC_USAGE = { input: 30, cacheRead: 20, cacheWrite: 5, output: 12, thinking: 4 } as const;
export const FAKE_EMBEDDING_TOKENS_PER_INPUT = 8;

/** Splits a text into stream pieces of `size` characters (whole code points, so JSON stays valid). */
export function pieces(text: string, size = 6): string[] {
  const points = [...text];
  const out: string[] = [];
  for (let at = 0; at < points.length; at += size) out.push(points.slice(at, at + size).join(''));
  return out;
}

let counter = 0;
/** Ids in each provider's style (`chatcmpl-...`, `msg_...`), unique within the process. */
export function fakeId(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(6, '0')}`;
}

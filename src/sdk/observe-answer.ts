import { isObject, readJson } from '../providers/json-fields.js';
import { observeStream } from '../providers/stream-observer.js';
import type { ProviderAdapter, ResponseFacts } from '../providers/types.js';

/** What one HTTP answer said, and how its body ended. */
export interface ObservedAnswer {
  status: number;
  /** The provider's id for the request (`x-request-id`, or Anthropic's `request-id`). */
  upstreamRequestId?: string;
  response: ResponseFacts;
  /** Read to its end; cut off by the caller (abort, `break` out of a stream); or broken off by the network. */
  ending: 'complete' | 'aborted' | 'broken';
  /**
   * A stream cut off when all that had arrived was data that is not JSON: its facts judged as if
   * it had ended (an `invalid_response` error). An SDK stops reading at such data (the OpenAI SDK
   * throws `malformed server-sent event JSON` and aborts its own request), so the cut may be the
   * SDK giving up on an invalid answer rather than the caller's doing; see `settleCut`.
   */
  unreadable?: ResponseFacts;
}

/**
 * Reads a copy of an answer the SDK is about to read itself: `response.clone()` tees the body,
 * so the SDK, its stream helpers and the caller get every byte as before, at the same pace,
 * while this copy goes through the same adapters as the gateway (SSE decoding included). Time
 * to first token counts from `startedAt` (`performance.now()` when the call began).
 */
export function observeAnswer(
  adapter: ProviderAdapter,
  response: Response,
  startedAt: number,
  signal: AbortSignal | null | undefined,
): Promise<ObservedAnswer> {
  const copy = response.clone();
  const id = copy.headers.get('x-request-id') ?? copy.headers.get('request-id');
  const base = { status: copy.status, ...(id !== null && id.length <= 128 ? { upstreamRequestId: id } : {}) };
  const cut = (): ObservedAnswer['ending'] => (signal?.aborted ? 'aborted' : 'broken');
  const eventStream = (copy.headers.get('content-type') ?? '').startsWith('text/event-stream');
  return eventStream ? readEvents(adapter, copy, startedAt, base, cut) : readBody(adapter, copy, base, cut);
}

type Base = Pick<ObservedAnswer, 'status' | 'upstreamRequestId'>;

async function readEvents(
  adapter: ProviderAdapter,
  copy: Response,
  startedAt: number,
  base: Base,
  cut: () => ObservedAnswer['ending'],
): Promise<ObservedAnswer> {
  const observer = observeStream(adapter, { startedAt });
  try {
    if (copy.body) for await (const chunk of copy.body) observer.push(chunk);
    return { ...base, response: observer.end(), ending: 'complete' };
  } catch {
    // What arrived before the cut still counts: usage and texts so far, and time to first token.
    const response = observer.result();
    const ending = cut();
    if (ending !== 'aborted') return { ...base, response, ending };
    const ended = observer.end();
    const { events, malformedEvents } = observer.sse;
    return { ...base, response, ending, ...(events === 0 && malformedEvents > 0 ? { unreadable: ended } : {}) };
  }
}

async function readBody(adapter: ProviderAdapter, copy: Response, base: Base, cut: () => ObservedAnswer['ending']): Promise<ObservedAnswer> {
  let text: string;
  try {
    text = await copy.text();
  } catch {
    // Cut off: an error status is still the upstream's error; a body that never arrived whole is not judged invalid.
    return { ...base, response: copy.status >= 400 ? adapter.describeResponse(undefined, copy.status) : { usage: {} }, ending: cut() };
  }
  // Anything but an object goes as text, so that the adapter can tell an empty body, one that is
  // not JSON and JSON that is not an object apart: an answer not valid in its format is an error.
  const json = readJson(text);
  return { ...base, response: adapter.describeResponse(isObject(json) ? json : text, copy.status), ending: 'complete' };
}

import { SseDecoder } from '../sse.js';
import type { ProviderAdapter, StreamEvent, TextSlot } from '../types.js';
import type { FakeReply } from '../simulated/fake-reply.js';
import { sseText } from './replay.js';

/** Replaces every slot's text with its upper case, as a redacting policy would replace it. */
export function upperCaseAll(slots: readonly TextSlot[]): void {
  for (const slot of slots) slot.set(slot.text.toUpperCase());
}

/** Masks every visible character: applied to each delta, it gives the mask of the whole text. */
export function mask(text: string): string {
  return text.replace(/\S/gu, '#');
}

/** A fake upstream's JSON answer body. */
export function answerBody(reply: FakeReply): Record<string, unknown> {
  if (reply.kind !== 'json') throw new Error(`expected a JSON reply, got ${reply.kind}`);
  return reply.body as Record<string, unknown>;
}

/** A stream as the gateway sees it: the SSE text decoded into events, and whether `[DONE]` ended it. */
export interface DecodedStream {
  events: StreamEvent[];
  done: boolean;
}

/** Decodes what a fake upstream streamed with the project's own SSE decoder. */
export function decodeReply(reply: FakeReply): DecodedStream {
  if (reply.kind !== 'sse') throw new Error(`expected an SSE reply, got ${reply.kind}`);
  const stream: DecodedStream = { events: [], done: false };
  const decoder = new SseDecoder({
    onEvent: ({ event, json }) => stream.events.push(event === undefined ? { data: json } : { event, data: json }),
    onDone: () => (stream.done = true),
  });
  decoder.push(reply.frames.join(''));
  decoder.end();
  return stream;
}

/** The stream re-serialised, as a gateway that rewrote its events in place sends it on. */
export function encode(stream: DecodedStream): string {
  return sseText(stream.events, stream.done);
}

/** Each channel's text, joined from the `delta` slots of the stream's events. */
export function deltaTextByChannel(adapter: ProviderAdapter, stream: DecodedStream): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const event of stream.events) {
    for (const slot of adapter.streamTexts(event)) if (slot.kind === 'delta') texts[slot.channel] = (texts[slot.channel] ?? '') + slot.text;
  }
  return texts;
}

/** Rewrites every slot of the given kinds with `replace`, in place. */
export function rewriteStream(
  adapter: ProviderAdapter,
  stream: DecodedStream,
  kinds: ReadonlyArray<'delta' | 'whole'>,
  replace: (text: string) => string,
): void {
  for (const event of stream.events) {
    for (const slot of adapter.streamTexts(event)) if (kinds.includes(slot.kind)) slot.set(replace(slot.text));
  }
}

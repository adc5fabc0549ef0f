import { sseFrame } from '../simulated/fake-reply.js';
import { observeStream } from '../stream-observer.js';
import type { ProviderAdapter, ResponseFacts } from '../types.js';

/** A wire sample: SSE events as a provider sends them (`event` is the SSE event name, if any). */
export type WireEvents = Array<{ event?: string; data: unknown }>;

export function sseText(events: WireEvents, done = false): string {
  return events.map(({ event, data }) => sseFrame(data, event)).join('') + (done ? sseFrame('[DONE]') : '');
}

/**
 * Replays a stream through an adapter's observer, one byte piece at a time, on a fake clock that
 * advances `stepMs` per piece, so time to first token is predictable.
 */
export function replay(adapter: ProviderAdapter, sse: string, options: { pieceBytes?: number; stepMs?: number } = {}): ResponseFacts {
  let now = 1_000;
  const observer = observeStream(adapter, { now: () => now, startedAt: 1_000 });
  const bytes = Buffer.from(sse, 'utf8');
  const size = options.pieceBytes ?? 5;
  for (let at = 0; at < bytes.length; at += size) {
    now += options.stepMs ?? 1;
    observer.push(bytes.subarray(at, at + size));
  }
  return observer.end();
}

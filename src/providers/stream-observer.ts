import type { AccumulatorOptions, ProviderAdapter, ResponseFacts, StreamAccumulator } from './types.js';
import { SseDecoder, type SseDecoderOptions, type SseStats } from './sse.js';

/** A tap on a streamed response: bytes in as they pass, the call's facts out at any time. */
export interface StreamObserver {
  /** Observes one chunk on its way to the client. Never throws and never holds the chunk. */
  push(chunk: Uint8Array | string): void;
  /**
   * The stream ended: flushes a final unterminated event and returns the facts, with an
   * `invalid_response` error when the stream held nothing of its format (see answer-validity.ts).
   */
  end(): ResponseFacts;
  /** The stream broke off before its end: flushes as `end` does, but judges nothing (what it lacked may not have come yet). */
  cutOff(): ResponseFacts;
  /** Facts so far, without ending: for a client that disconnected mid-stream. */
  result(): ResponseFacts;
  readonly sse: SseStats;
}

/**
 * Wires an SSE decoder to an adapter's accumulator. The gateway copies each upstream chunk to
 * the client and hands the same chunk here; nothing here can delay or stop that copy.
 */
export function observeStream(adapter: ProviderAdapter, options: AccumulatorOptions & SseDecoderOptions = {}): StreamObserver {
  const accumulator: StreamAccumulator = adapter.streamAccumulator(options);
  const decoder = new SseDecoder(
    {
      onEvent: (event) => accumulator.push(event.event === undefined ? { data: event.json } : { event: event.event, data: event.json }),
      onDone: () => accumulator.done(),
      onMalformed: () => accumulator.malformed(),
    },
    options,
  );
  return {
    push: (chunk) => decoder.push(chunk),
    end: () => {
      decoder.end();
      return accumulator.end();
    },
    cutOff: () => {
      decoder.end();
      return accumulator.result();
    },
    result: () => accumulator.result(),
    get sse() {
      return decoder.stats;
    },
  };
}

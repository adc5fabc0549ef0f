import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One complete SSE event. `json` is its data parsed, present only when the data was valid JSON. */
export interface SseEvent {
  event?: string;
  data: string;
  json?: unknown;
}

export interface SseHandlers {
  /** An event whose data is valid JSON. */
  onEvent?: (event: SseEvent & { json: unknown }) => void;
  /** OpenAI's `data: [DONE]` sentinel. */
  onDone?: () => void;
  /** An event whose data is not JSON (and not `[DONE]`). Its text is not passed on: it may hold prompt text. */
  onMalformed?: () => void;
}

export interface SseStats {
  /** Events whose data parsed as JSON. */
  events: number;
  /** Events whose data did not parse. */
  malformedEvents: number;
  /** Completed lines that are not SSE fields (the SSE spec ignores them; counted for diagnosis). */
  invalidLines: number;
  /** True once an event or line grew past `maxBufferSize`; the decoder then stops parsing. */
  overflowed: boolean;
}

export interface SseDecoderOptions {
  /** Largest pending line plus event data, in characters, before parsing is abandoned. Default 16 MiB. */
  maxBufferSize?: number;
}

const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;

/**
 * An incremental SSE decoder for observing a stream that is being passed through. Bytes go in as
 * they arrive, split anywhere, even inside a line or a UTF-8 character; events come out as soon as
 * their blank line arrives. Only the current line and event are held, never the whole stream.
 *
 * The line grammar (multi-line `data:`, comments, CR/LF/CRLF, BOM, `event:`) is eventsource-parser's.
 * This wrapper adds what an observer needs on top: byte decoding, JSON parsing, the `[DONE]`
 * sentinel, and the rule that nothing in the stream can make it throw. Malformed data is counted,
 * and after an overflow the decoder goes quiet rather than failing the pass-through.
 */
export class SseDecoder {
  readonly #handlers: SseHandlers;
  readonly #parser: EventSourceParser;
  readonly #text = new TextDecoder('utf-8');
  readonly #stats: SseStats = { events: 0, malformedEvents: 0, invalidLines: 0, overflowed: false };
  #ended = false;

  constructor(handlers: SseHandlers = {}, options: SseDecoderOptions = {}) {
    this.#handlers = handlers;
    this.#parser = createParser({
      maxBufferSize: options.maxBufferSize ?? DEFAULT_MAX_BUFFER,
      onEvent: (message) => this.#dispatch(message.event, message.data),
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.#stats.overflowed = true;
        else if (error.type === 'unknown-field') this.#stats.invalidLines += 1;
      },
    });
  }

  /** Feeds the next piece of the stream. Never throws. */
  push(chunk: Uint8Array | string): void {
    if (this.#ended || this.#stats.overflowed) return;
    // `stream: true` keeps a partial UTF-8 character back until its remaining bytes arrive.
    const text = typeof chunk === 'string' ? chunk : this.#text.decode(chunk, { stream: true });
    this.#feed(text);
  }

  /**
   * The stream ended. A final event without its blank line is still delivered, as browsers'
   * EventSource would not, because an audit should keep what the upstream did send.
   */
  end(): SseStats {
    if (!this.#ended) {
      this.#ended = true;
      if (!this.#stats.overflowed) {
        this.#feed(this.#text.decode());
        this.#feed('\n\n');
      }
    }
    return this.stats;
  }

  get stats(): SseStats {
    return { ...this.#stats };
  }

  #feed(text: string): void {
    if (text.length === 0 || this.#stats.overflowed) return;
    try {
      this.#parser.feed(text);
    } catch {
      // The parser throws only once terminated by an overflow, already recorded in the stats.
      this.#stats.overflowed = true;
    }
  }

  #dispatch(event: string | undefined, data: string): void {
    if (data === '[DONE]') {
      this.#call(() => this.#handlers.onDone?.());
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data) as unknown;
    } catch {
      this.#stats.malformedEvents += 1;
      this.#call(() => this.#handlers.onMalformed?.());
      return;
    }
    this.#stats.events += 1;
    const parsed: SseEvent & { json: unknown } = event === undefined ? { data, json } : { event, data, json };
    this.#call(() => this.#handlers.onEvent?.(parsed));
  }

  /** A handler that throws is the observer's fault, not the stream's: it must not stop the decoding. */
  #call(handler: () => void): void {
    try {
      handler();
    } catch {
      this.#stats.malformedEvents += 1;
    }
  }
}

import { isObject, type JsonObject } from './json-fields.js';
import type { AccumulatorOptions, ResponseFacts, StreamAccumulator, StreamEvent, StreamFacts } from './types.js';

/**
 * The bookkeeping every accumulator shares: when the first content arrived, whether the stream's
 * end marker was seen, and how many events could not be read.
 */
export class StreamBookkeeping {
  readonly #now: () => number;
  readonly #startedAt: number;
  #ttftMs: number | undefined;
  #completed = false;
  #malformed = 0;

  constructor(options: AccumulatorOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = options.startedAt ?? this.#now();
  }

  /** A content delta arrived (text, tool arguments or reasoning); only the first one counts. Kept to 0.1 ms. */
  content(): void {
    if (this.#ttftMs === undefined) this.#ttftMs = Math.max(0, Math.round((this.#now() - this.#startedAt) * 10) / 10);
  }

  completed(): void {
    this.#completed = true;
  }

  malformed(): void {
    this.#malformed += 1;
  }

  facts(): StreamFacts {
    const facts: StreamFacts = { completed: this.#completed, malformedEvents: this.#malformed };
    if (this.#ttftMs !== undefined) facts.ttftMs = this.#ttftMs;
    return facts;
  }
}

/**
 * The shape every JSON event stream's accumulator shares: each event's data goes to `read` when
 * it is a JSON object and is counted as malformed otherwise, or when `read` throws, so that an
 * accumulator never breaks the pass-through it observes. `done` is OpenAI's `[DONE]` sentinel.
 */
export abstract class JsonStreamAccumulator implements StreamAccumulator {
  protected readonly book: StreamBookkeeping;

  constructor(options?: AccumulatorOptions) {
    this.book = new StreamBookkeeping(options);
  }

  push(event: StreamEvent): void {
    try {
      if (isObject(event.data)) this.read(event.data);
      else this.book.malformed();
    } catch {
      this.book.malformed();
    }
  }

  done(): void {
    this.book.completed();
  }

  malformed(): void {
    this.book.malformed();
  }

  protected abstract read(data: JsonObject): void;

  abstract result(): ResponseFacts;
}

import { invalidStream, streamProblem, type StreamShape } from './answer-validity.js';
import { isObject, type JsonObject } from './json-fields.js';
import type { AccumulatorOptions, ResponseFacts, StreamAccumulator, StreamEvent, StreamFacts } from './types.js';

/**
 * The bookkeeping every accumulator shares: when the first content arrived, whether the stream's
 * end marker was seen, how many events could not be read, and whether any was an event of the
 * format (for the validity check at the stream's end, see answer-validity.ts).
 */
export class StreamBookkeeping {
  readonly #now: () => number;
  readonly #startedAt: number;
  #ttftMs: number | undefined;
  #completed = false;
  #malformed = 0;
  #jsonEvents = 0;
  #sentinels = 0;
  #recognised = false;

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

  /** A `data: [DONE]` arrived (whether or not the format ends with it). */
  sentinel(): void {
    this.#sentinels += 1;
  }

  /** An event whose data is a JSON object arrived; `recognised`: it is an event of the stream's format. */
  jsonEvent(recognised: boolean): void {
    this.#jsonEvents += 1;
    if (recognised) this.#recognised = true;
  }

  /**
   * The facts at the stream's end: `facts` as the accumulator gives them, with an
   * `invalid_response` error when the stream held no event of `shape` and reported no error itself.
   */
  ended(shape: StreamShape, facts: ResponseFacts): ResponseFacts {
    if (facts.error !== undefined) return facts;
    const problem = streamProblem(shape, {
      recognised: this.#recognised,
      jsonEvents: this.#jsonEvents,
      malformedEvents: this.#malformed,
      sentinels: this.#sentinels,
    });
    return problem === undefined ? facts : { ...facts, error: invalidStream(shape, problem) };
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
 * `shape` tells the events of the format from others, for the check at the stream's end.
 */
export abstract class JsonStreamAccumulator implements StreamAccumulator {
  protected readonly book: StreamBookkeeping;

  constructor(
    private readonly shape: StreamShape,
    options?: AccumulatorOptions,
  ) {
    this.book = new StreamBookkeeping(options);
  }

  push(event: StreamEvent): void {
    try {
      if (!isObject(event.data)) return this.book.malformed();
      this.book.jsonEvent(this.shape.isEvent(event.data));
      this.read(event.data);
    } catch {
      this.book.malformed();
    }
  }

  end(): ResponseFacts {
    return this.book.ended(this.shape, this.result());
  }

  done(): void {
    this.book.sentinel();
    this.onDone();
  }

  malformed(): void {
    this.book.malformed();
  }

  /** `[DONE]` ends OpenAI's chat and completions streams; formats without it override this to ignore it. */
  protected onDone(): void {
    this.book.completed();
  }

  protected abstract read(data: JsonObject): void;

  abstract result(): ResponseFacts;
}

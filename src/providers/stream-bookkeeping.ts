import type { AccumulatorOptions, StreamFacts } from './types.js';

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
 * Runs one event through a reader, counting it as malformed if the reader throws: an accumulator
 * must never break the pass-through it observes.
 */
export function guarded(book: StreamBookkeeping, read: () => void): void {
  try {
    read();
  } catch {
    book.malformed();
  }
}

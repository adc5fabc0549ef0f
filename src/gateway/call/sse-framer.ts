import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One SSE event as it came: its exact text (blank line included), and its fields once parsed. */
export interface RawEvent {
  raw: string;
  event?: string;
  /** The data field, lines joined; undefined for a block that carries none (a comment, a keep-alive). */
  data?: string;
}

// A blank line ends an event: two line ends in a row, whichever of CR, LF or CRLF each is.
const EVENT_END = /\r?\n\r?\n|\r\r/g;

/**
 * Cuts a stream of SSE text into whole events, each with its exact bytes, so a gateway that must
 * hold events back (to check them) can still pass each one on byte for byte. Parsing of the
 * fields is eventsource-parser's.
 */
export class SseFramer {
  private buffer = '';
  private parsed: EventSourceMessage | undefined;
  private readonly parser = createParser({ onEvent: (message) => (this.parsed = message) });

  /** The events this text completes, in order; an unfinished last event waits for more. */
  push(text: string): RawEvent[] {
    this.buffer += text;
    const events: RawEvent[] = [];
    let start = 0;
    EVENT_END.lastIndex = 0;
    for (let match = EVENT_END.exec(this.buffer); match !== null; match = EVENT_END.exec(this.buffer)) {
      const end = match.index + match[0].length;
      events.push(this.parse(this.buffer.slice(start, end)));
      start = end;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The stream ended: an event that never got its blank line still counts, as the observer treats it. */
  end(): RawEvent[] {
    if (this.buffer === '') return [];
    const rest = this.parse(`${this.buffer}\n\n`);
    rest.raw = this.buffer;
    this.buffer = '';
    return [rest];
  }

  private parse(raw: string): RawEvent {
    this.parsed = undefined;
    this.parser.feed(raw);
    const message = this.parsed as EventSourceMessage | undefined;
    if (!message) return { raw };
    return message.event === undefined ? { raw, data: message.data } : { raw, event: message.event, data: message.data };
  }
}

/** An event written anew, for one whose data was rewritten: `event:` when named, then the data. */
export function formatEvent(event: string | undefined, data: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

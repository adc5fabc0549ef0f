import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseDecoder, type SseEvent } from './sse.js';

interface Seen {
  events: SseEvent[];
  done: number;
  malformed: number;
}

/** Decodes `chunks` in order and returns everything the handlers saw, plus the final stats. */
function decode(chunks: Array<string | Uint8Array>, maxBufferSize?: number) {
  const seen: Seen = { events: [], done: 0, malformed: 0 };
  const decoder = new SseDecoder(
    { onEvent: (event) => seen.events.push(event), onDone: () => (seen.done += 1), onMalformed: () => (seen.malformed += 1) },
    maxBufferSize === undefined ? {} : { maxBufferSize },
  );
  for (const chunk of chunks) decoder.push(chunk);
  return { ...seen, stats: decoder.end() };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('SseDecoder', () => {
  it('parses named and unnamed events, with their JSON data', () => {
    const { events, stats } = decode(['event: message_start\ndata: {"type":"message_start"}\n\ndata: {"n":1}\n\n']);
    expect(events).toEqual([
      { event: 'message_start', data: '{"type":"message_start"}', json: { type: 'message_start' } },
      { data: '{"n":1}', json: { n: 1 } },
    ]);
    expect(stats).toEqual({ events: 2, malformedEvents: 0, invalidLines: 0, overflowed: false });
  });

  it('joins multi-line data with newlines, as the SSE spec says', () => {
    const { events } = decode(['data: {"a":\ndata: 1}\n\n']);
    expect(events[0]!.json).toEqual({ a: 1 });
    expect(events[0]!.data).toBe('{"a":\n1}');
  });

  it('ignores comments and accepts CRLF and CR line ends', () => {
    const { events } = decode([': keep-alive\r\n\r\ndata: {"n":1}\r\n\r\n:ping\rdata: {"n":2}\r\r']);
    expect(events.map((event) => event.json)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('reports [DONE] as the end sentinel, not as an event', () => {
    const { events, done } = decode(['data: {"n":1}\n\ndata: [DONE]\n\n']);
    expect(events).toHaveLength(1);
    expect(done).toBe(1);
  });

  it('counts an event whose data is not JSON, and carries on with the next one', () => {
    const { events, malformed, stats } = decode(['data: {"unfinished\n\ndata: {"n":2}\n\n']);
    expect(malformed).toBe(1);
    expect(stats.malformedEvents).toBe(1);
    expect(events.map((event) => event.json)).toEqual([{ n: 2 }]);
  });

  it('counts lines that are not SSE fields without failing', () => {
    const { events, stats } = decode(['garbage line\ndata: {"n":1}\n\n']);
    expect(events).toHaveLength(1);
    expect(stats.invalidLines).toBe(1);
  });

  it('keeps a UTF-8 character split between two chunks whole', () => {
    const whole = bytes('data: {"text":"世界 ✅"}\n\n');
    const cut = 'data: {"text":"'.length + 1; // inside the three bytes of 世
    const { events } = decode([whole.subarray(0, cut), whole.subarray(cut)]);
    expect(events[0]!.json).toEqual({ text: '世界 ✅' });
  });

  it('delivers a last event that lacks its blank line when the stream ends', () => {
    const { events } = decode(['data: {"n":1}\n\ndata: {"n":2}']);
    expect(events.map((event) => event.json)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('survives a handler that throws, counting the event as malformed', () => {
    let calls = 0;
    const decoder = new SseDecoder({
      onEvent: () => {
        calls += 1;
        throw new Error('observer bug');
      },
    });
    expect(() => decoder.push('data: {"n":1}\n\ndata: {"n":2}\n\n')).not.toThrow();
    expect(calls).toBe(2);
    expect(decoder.end().malformedEvents).toBe(2);
  });

  it('stops parsing, without throwing, once an event outgrows the buffer limit', () => {
    const { events, stats } = decode(['data: {"n":1}\n\n', `data: "${'x'.repeat(200)}`, '"\n\ndata: {"n":3}\n\n'], 64);
    expect(events.map((event) => event.json)).toEqual([{ n: 1 }]);
    expect(stats.overflowed).toBe(true);
  });

  it('ignores pushes after end', () => {
    const decoder = new SseDecoder();
    decoder.end();
    expect(() => decoder.push('data: {}\n\n')).not.toThrow();
    expect(decoder.stats.events).toBe(0);
  });
});

describe('SseDecoder, property: any split of a stream gives the same events', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ':', '"', '\\', 'é', '世', '✅', '😀', '{', '}') });
  const event = fc.record({
    name: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'response.output_text.delta'), { nil: undefined }),
    payload: fc.oneof(
      text.map((value) => JSON.stringify({ value })),
      fc.constant('[DONE]'),
      fc.constant('{"broken'),
    ),
    comment: fc.boolean(),
    lineEnd: fc.constantFrom('\n', '\r\n', '\r'),
  });

  function serialise(events: Array<{ name?: string; payload: string; comment: boolean; lineEnd: string }>): string {
    return events
      .map(
        ({ name, payload, comment, lineEnd }) =>
          `${comment ? `: note${lineEnd}` : ''}${name ? `event: ${name}${lineEnd}` : ''}data: ${payload}${lineEnd}${lineEnd}`,
      )
      .join('');
  }

  it('decodes identically whether fed whole or cut at arbitrary byte offsets', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (events, cuts) => {
        const stream = bytes(serialise(events));
        const offsets = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const offset of offsets) {
          pieces.push(stream.subarray(from, offset));
          from = offset;
        }
        pieces.push(stream.subarray(from));
        const whole = decode([stream]);
        const split = decode(pieces);
        expect(split.events).toEqual(whole.events);
        expect([split.done, split.malformed]).toEqual([whole.done, whole.malformed]);
        // And the whole-stream reading is the one intended.
        expect(whole.events.length + whole.done + whole.malformed).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEvent, SseFramer } from './sse-framer.js';

const STREAM = 'event: message_start\ndata: {"a":1}\n\n: keep-alive\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';

describe('SseFramer', () => {
  it('cuts a stream into whole events with their exact text and parsed fields', () => {
    const events = new SseFramer().push(STREAM);
    expect(events).toEqual([
      { raw: 'event: message_start\ndata: {"a":1}\n\n', event: 'message_start', data: '{"a":1}' },
      { raw: ': keep-alive\n\n' },
      { raw: 'data: line one\ndata: line two\n\n', data: 'line one\nline two' },
      { raw: 'data: [DONE]\n\n', data: '[DONE]' },
    ]);
  });

  it('gives the same events, byte for byte, however the stream is split, with CRLF line ends too', () => {
    const crlf = STREAM.replaceAll('\n', '\r\n');
    fc.assert(
      fc.property(fc.constantFrom(STREAM, crlf), fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const framer = new SseFramer();
        const out = [];
        let at = 0;
        for (const point of [...points, text.length]) {
          out.push(...framer.push(text.slice(at, point)));
          at = point;
        }
        out.push(...framer.end());
        expect(out.map((e) => e.raw).join('')).toBe(text);
        expect(out.map((e) => e.data)).toEqual([...new SseFramer().push(text)].map((e) => e.data));
      }),
    );
  });

  it('keeps an unfinished last event until the stream ends, then hands it over as it came', () => {
    const framer = new SseFramer();
    expect(framer.push('data: {"partial":')).toEqual([]);
    expect(framer.push('true}')).toEqual([]);
    expect(framer.end()).toEqual([{ raw: 'data: {"partial":true}', data: '{"partial":true}' }]);
  });

  it('writes a rewritten event with its name', () => {
    expect(formatEvent('content_block_delta', '{"x":1}')).toBe('event: content_block_delta\ndata: {"x":1}\n\n');
    expect(formatEvent(undefined, '{}')).toBe('data: {}\n\n');
  });
});

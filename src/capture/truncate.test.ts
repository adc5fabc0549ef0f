import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncateUtf8 } from './truncate.js';

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

describe('truncateUtf8', () => {
  it('keeps a text that fits, reporting its UTF-8 size', () => {
    expect(truncateUtf8('héllo', 6)).toEqual({ text: 'héllo', bytes: 6, truncated: false });
    expect(truncateUtf8('', 0)).toEqual({ text: '', bytes: 0, truncated: false });
  });

  it('cuts ASCII at exactly the limit', () => {
    expect(truncateUtf8('abcdef', 4)).toEqual({ text: 'abcd', bytes: 6, truncated: true });
  });

  it('drops a two-, three- or four-byte character whole rather than splitting it', () => {
    // é is 2 bytes, € is 3, 😀 is 4 (a surrogate pair in UTF-16).
    expect(truncateUtf8('aé', 2).text).toBe('a');
    expect(truncateUtf8('a€', 3).text).toBe('a');
    expect(truncateUtf8('a€', 4).text).toBe('a€');
    for (const max of [1, 2, 3, 4]) expect(truncateUtf8('a😀b', max).text).toBe('a');
    expect(truncateUtf8('a😀b', 5).text).toBe('a😀');
  });

  it('counts a lone surrogate as the three bytes of U+FFFD it is stored as', () => {
    expect(truncateUtf8('a\ud800', 3)).toEqual({ text: 'a', bytes: 4, truncated: true });
    expect(truncateUtf8('a\ud800', 4)).toEqual({ text: 'a\ud800', bytes: 4, truncated: false });
  });

  it('keeps nothing at a limit of 0', () => {
    expect(truncateUtf8('abc', 0)).toEqual({ text: '', bytes: 3, truncated: true });
  });

  it('refuses a negative or fractional limit', () => {
    expect(() => truncateUtf8('abc', -1)).toThrow(/maxBytes must be a whole number/);
    expect(() => truncateUtf8('abc', 1.5)).toThrow(/maxBytes must be a whole number/);
  });

  it('always gives a prefix that is valid UTF-8, within the limit, and as long as possible', () => {
    // Full Unicode including lone surrogates, so pairs and broken pairs are both exercised.
    const unit = fc.oneof(fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    const text = fc.string({ unit, maxLength: 40 });
    fc.assert(
      fc.property(text, fc.nat(64), (original, max) => {
        const result = truncateUtf8(original, max);
        const stored = utf8(result.text);
        expect(original.startsWith(result.text)).toBe(true);
        expect(stored.length).toBeLessThanOrEqual(max);
        // Valid UTF-8: decoding with fatal errors on succeeds and gives back the same bytes.
        expect(utf8(new TextDecoder('utf-8', { fatal: true }).decode(stored))).toEqual(stored);
        // Never a split pair: a cut right after a high surrogate would strand its low half.
        const at = result.text.length;
        expect(isHigh(original.charCodeAt(at - 1)) && isLow(original.charCodeAt(at))).toBe(false);
        expect(result.bytes).toBe(utf8(original).length);
        expect(result.truncated).toBe(result.text.length < original.length);
        // Maximal: one more character would not have fitted.
        if (result.truncated) {
          const step = isHigh(original.charCodeAt(at)) && isLow(original.charCodeAt(at + 1)) ? 2 : 1;
          expect(utf8(original.slice(0, at + step)).length).toBeGreaterThan(max);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Base64Error, decodeStrictBase64 } from './base64.js';

describe('decodeStrictBase64', () => {
  it('decodes what standard base64 encodes, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeStrictBase64(Buffer.from(bytes).toString('base64')).equals(bytes)).toBe(true);
      }),
    );
  });

  it('accepts only texts that re-encode to themselves, so each value has one spelling', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw+/=ab09 -_\n'), maxLength: 12 }), (text) => {
        let decoded: Buffer | undefined;
        try {
          decoded = decodeStrictBase64(text);
        } catch (err) {
          expect(err).toBeInstanceOf(Base64Error);
        }
        if (decoded) expect(decoded.toString('base64')).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['unused bits that are not zero', 'AB==', /not canonical/],
    ['a missing padding', 'AA', /not padded standard base64/],
    ['too much padding', 'AA===', /not padded standard base64/],
    ['the URL-safe alphabet', '-_8=', /not padded standard base64/],
    ['white space', 'AAAA AAAA', /not padded standard base64/],
    ['a line break', 'AAAA\nAAAA', /not padded standard base64/],
    ['padding in the middle', 'AA==AAAA', /not padded standard base64/],
  ])('rejects %s', (_what, text, message) => {
    expect(() => decodeStrictBase64(text)).toThrow(Base64Error);
    expect(() => decodeStrictBase64(text)).toThrow(message);
  });

  it('checks the decoded length when asked', () => {
    expect(decodeStrictBase64(Buffer.alloc(32).toString('base64'), 32)).toHaveLength(32);
    expect(() => decodeStrictBase64(Buffer.alloc(31).toString('base64'), 32)).toThrow('31 bytes long, not 32');
  });
});

import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCopy, canonicalJson, CanonicalJsonError } from './canonical.js';

describe('canonicalJson (RFC 8785)', () => {
  it('matches the reference implementation on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders any number of keys as the reference does, few or many', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary-ascii', maxLength: 4 }), fc.integer(), { maxKeys: 40 }), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a "__proto__" key as data', () => {
    const copy = canonicalCopy(JSON.parse('{"b":1,"__proto__":{"x":2}}')).value;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"x":2},"b":1}');
  });

  it('orders keys by UTF-16 code units and serialises numbers as ECMAScript does (RFC 8785 examples)', () => {
    expect(
      canonicalJson({
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      }),
    ).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(canonicalJson({ numbers: [Number('333333333.33333329'), 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0] })).toBe(
      '{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27,0]}',
    );
    expect(canonicalJson({ b: undefined, a: [undefined] })).toBe(canonicalize({ b: undefined, a: [undefined] }));
  });

  it('refuses what JSON or I-JSON cannot hold, naming where it is', () => {
    expect(() => canonicalJson({ a: { b: 'x\ud800' } })).toThrow(new CanonicalJsonError('a.b', 'contains a lone surrogate, which is not valid Unicode text'));
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/n is NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/f is a function/);
    expect(() => canonicalJson([{ list: [1, Infinity] }])).toThrow(new CanonicalJsonError('[0].list[1]', 'is Infinity, which JSON cannot represent'));
    expect(() => canonicalJson({ ['k\udc00']: 1 })).toThrow(new CanonicalJsonError('value', 'has a key with a lone surrogate'));
  });

  it('bounds nesting when asked to, counting the value itself as level 1, and names a cycle where it closes', () => {
    const three = { a: [{ b: 1 }] };
    expect(canonicalCopy(three, 'm', 3).value).toEqual(three);
    expect(() => canonicalCopy(three, 'm', 2)).toThrow(
      new CanonicalJsonError(
        'm.a[0]',
        'is nested too deep: objects and arrays may nest 2 levels, m itself being the first; flatten it, or pass the deeper part as a JSON string',
      ),
    );
    const loop: Record<string, unknown> = { x: 1 };
    loop.y = { z: loop };
    expect(() => canonicalCopy(loop, '', 8)).toThrow(
      new CanonicalJsonError('y.z', 'refers back to value itself (a circular reference), which JSON cannot represent: pass a copy without the cycle'),
    );
    // The same object twice, side by side, is no cycle.
    const shared = { s: 1 };
    expect(canonicalJson(canonicalCopy({ p: shared, q: [shared] }, '', 3).value)).toBe('{"p":{"s":1},"q":[{"s":1}]}');
  });
});

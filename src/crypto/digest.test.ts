import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digester, fingerprintApiKey } from './digest.js';

describe('Digester', () => {
  it('computes exactly what createHmac computes, for any text and any key length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 3000 }), (key, text) => {
        const expected = createHmac('sha256', key).update(text, 'utf8').digest('hex');
        expect(new Digester('hmac-sha256', Buffer.from(key)).digest(text)).toBe(expected);
      }),
    );
  });

  it('gives the same digest when texts of very different sizes come one after another', () => {
    const key = Buffer.alloc(32, 3);
    const digester = new Digester('hmac-sha256', key);
    for (const text of ['short', 'é'.repeat(50_000), 'short', '', '𝄞'.repeat(3000)]) {
      expect(digester.digest(text)).toBe(createHmac('sha256', key).update(text).digest('hex'));
    }
  });

  it('matches RFC 4231 test case 6 (a key longer than one block is hashed first)', () => {
    const key = Buffer.alloc(131, 0xaa);
    const text = 'Test Using Larger Than Block-Size Key - Hash Key First';
    expect(new Digester('hmac-sha256', key).digest(text)).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });

  it('plain sha256 needs no key and equals SHA-256 of the UTF-8 text', () => {
    expect(new Digester('sha256').digest('héllo')).toBe(createHash('sha256').update('héllo').digest('hex'));
  });

  it('refuses an HMAC key shorter than 32 bytes', () => {
    expect(() => new Digester('hmac-sha256', Buffer.alloc(16))).toThrow(/at least 32 bytes/);
    expect(() => new Digester('hmac-sha256')).toThrow(/at least 32 bytes/);
  });
});

describe('fingerprintApiKey', () => {
  it('keeps SHA-256 and an 8-character prefix of a long key, never the key', () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz';
    const fp = fingerprintApiKey(key);
    expect(fp).toEqual({ apiKeyHash: createHash('sha256').update(key).digest('hex'), apiKeyPrefix: 'sk-proj-' });
    expect(JSON.stringify(fp)).not.toContain(key.slice(8));
  });

  it('keeps no prefix of a key too short for a safe one', () => {
    expect(fingerprintApiKey('short-key-1234')).toEqual({ apiKeyHash: createHash('sha256').update('short-key-1234').digest('hex') });
  });
});

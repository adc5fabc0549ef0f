import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from './sha256.js';

describe('sha256', () => {
  it('is SHA-256 of UTF-8 text and of bytes, as node:crypto computes it', () => {
    for (const text of ['', 'abc', 'ünïcødé 🙂', 'x'.repeat(5000)]) {
      expect(sha256(text).equals(createHash('sha256').update(text, 'utf8').digest())).toBe(true);
      const bytes = Buffer.from(text, 'utf8');
      expect(sha256(new Uint8Array(bytes)).equals(createHash('sha256').update(bytes).digest())).toBe(true);
    }
  });

  it('gives each digest 32 bytes of its own, though they share a pool', () => {
    const a = sha256('a');
    const b = sha256('b');
    expect(a.length).toBe(32);
    b.fill(0);
    expect(a.equals(createHash('sha256').update('a').digest())).toBe(true);
  });
});

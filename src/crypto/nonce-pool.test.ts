import { describe, expect, it } from 'vitest';
import { NoncePool } from './nonce-pool.js';

describe('NoncePool', () => {
  it('hands out nonces of the requested size that do not repeat across refills', () => {
    const pool = new NoncePool(12, 4);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const nonce = pool.next();
      expect(nonce.length).toBe(12);
      seen.add(nonce.toString('hex'));
    }
    expect(seen.size).toBe(1000);
  });
});

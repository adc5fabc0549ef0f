import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from './retry-after.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-04T12:00:00.000Z');

  it("prefers OpenAI's retry-after-ms, then Retry-After in seconds or as an HTTP date", () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.25' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': 'Fri, 04 Dec 2026 12:00:05 GMT' }, now)).toBe(5000);
  });

  it('says nothing for a missing or unreadable header, and never a negative wait', () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'Fri, 04 Dec 2026 11:00:00 GMT' }, now)).toBe(0);
  });
});

describe('backoffMs', () => {
  it('waits a random time up to initial * 2^retry, capped (full jitter)', () => {
    expect(backoffMs(0, 100, 1000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffMs(4, 100, 1000, () => 1)).toBe(1000);
    expect(backoffMs(4, 100, 1000, () => 0.5)).toBe(500);
    expect(backoffMs(2, 100, 1000, () => 0)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { SearchFilter } from '../store/store.js';
import { normalizeTimeBound, TimeBoundError, withNormalizedTimes } from './time-bounds.js';

describe('time bounds', () => {
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T09:30Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T09:30:00Z', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31T09:30:00.5z', '2026-01-31T09:30:00.500Z'],
    ['2026-01-31T09:30:00.000+02:00', '2026-01-31T07:30:00.000Z'],
  ])('normalises %s to the envelope form %s', (value, expected) => {
    expect(normalizeTimeBound(value, 'since')).toBe(expected);
  });

  it.each(['2026-01-31T09:30:00', 'yesterday', '2026-02-30T00:00:00Z', ''])('refuses %j, naming the bound', (value) => {
    expect(() => normalizeTimeBound(value, 'until')).toThrow(TimeBoundError);
    expect(() => normalizeTimeBound(value, 'until')).toThrow(/^until must be an ISO 8601 date or time in UTC/);
  });

  it('leaves the rest of a filter alone', () => {
    expect(withNormalizedTimes({ model: 'm', since: '2026-01-31T00:00:00Z' })).toEqual({ model: 'm', since: '2026-01-31T00:00:00.000Z' });
    const noTimes: SearchFilter = { model: 'm' };
    expect(withNormalizedTimes(noTimes)).toEqual({ model: 'm' });
  });
});

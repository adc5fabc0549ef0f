import { describe, expect, it } from 'vitest';
import { PRESET_DAYS, RETENTION_PRESETS, type RetentionConfig } from '../config/retention.js';
import { defaultConfig } from '../config/schema.js';
import { DAY_MS, isExpired, resolveRetention } from './retention-cutoffs.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

describe('resolveRetention', () => {
  it('gives each cutoff as now minus whole days, in the envelope timestamp format', () => {
    expect(resolveRetention({ contentDays: 30, envelopeDays: 365 }, NOW)).toEqual({
      content: { days: 30, before: '2026-01-30T12:00:00.000Z', beforeMs: NOW - 30 * DAY_MS },
      envelope: { days: 365, before: '2025-03-01T12:00:00.000Z', beforeMs: NOW - 365 * DAY_MS },
    });
  });

  it('takes the loaded configuration as it is: by default content goes after 90 days, envelopes after 365', () => {
    const config: RetentionConfig = defaultConfig('/srv').retention;
    const cutoffs = resolveRetention(config, NOW);
    expect([cutoffs.content?.days, cutoffs.envelope?.days]).toEqual([90, 365]);
  });

  it('takes the clock as a Date or as milliseconds', () => {
    expect(resolveRetention({ contentDays: 1, envelopeDays: 2 }, new Date(NOW))).toEqual(resolveRetention({ contentDays: 1, envelopeDays: 2 }, NOW));
  });

  it('gives no cutoff for forever: nothing of that kind is removed', () => {
    expect(resolveRetention({ contentDays: 'forever', envelopeDays: 'forever' }, NOW)).toEqual({});
    expect(resolveRetention({ contentDays: 7, envelopeDays: 'forever' }, NOW).envelope).toBeUndefined();
  });

  it('puts the content cutoff at now for 0 days: everything written before now goes at the next cleanup', () => {
    const { content } = resolveRetention({ contentDays: 0, envelopeDays: 1 }, NOW);
    expect(content?.beforeMs).toBe(NOW);
    expect(isExpired('2026-03-01T11:59:59.999Z', content)).toBe(true);
    expect(isExpired('2026-03-01T12:00:00.000Z', content)).toBe(false);
  });

  it('refuses an invalid clock or period instead of computing a meaningless cutoff', () => {
    expect(() => resolveRetention({ contentDays: 1, envelopeDays: 1 }, new Date('nonsense'))).toThrow(/valid current time/);
    expect(() => resolveRetention({ contentDays: -1, envelopeDays: 1 }, NOW)).toThrow(/content retention must be a whole number of days/);
    expect(() => resolveRetention({ contentDays: 1, envelopeDays: 1.5 }, NOW)).toThrow(/envelope retention/);
  });
});

describe('the boundary', () => {
  const { content } = resolveRetention({ contentDays: 30, envelopeDays: 365 }, NOW);

  it('is strict: a record exactly at the cutoff is kept, one millisecond older is removed', () => {
    expect(content?.before).toBe('2026-01-30T12:00:00.000Z');
    expect(isExpired('2026-01-30T12:00:00.000Z', content)).toBe(false);
    expect(isExpired('2026-01-30T11:59:59.999Z', content)).toBe(true);
    expect(isExpired('2026-01-30T12:00:00.001Z', content)).toBe(false);
  });

  it('agrees with comparing the ISO strings, which is how a store can filter on ts', () => {
    for (const ts of ['2026-01-30T11:59:59.999Z', '2026-01-30T12:00:00.000Z', '2026-01-30T12:00:00.001Z', '2025-12-31T23:59:59.999Z']) {
      expect(ts < content!.before).toBe(isExpired(ts, content));
    }
  });

  it('removes nothing when there is no cutoff', () => {
    expect(isExpired('1970-01-01T00:00:00.000Z', undefined)).toBe(false);
  });
});

describe('presets', () => {
  it('are the documented numbers, with a reason each, and never keep content longer than envelopes', () => {
    expect(Object.fromEntries(RETENTION_PRESETS.map((p) => [p, [PRESET_DAYS[p].content, PRESET_DAYS[p].envelope]]))).toEqual({
      standard: [90, 365],
      hipaa: [90, 2192],
      gdpr: [30, 180],
    });
    for (const preset of RETENTION_PRESETS) {
      expect(PRESET_DAYS[preset].content).toBeLessThanOrEqual(PRESET_DAYS[preset].envelope);
      expect(PRESET_DAYS[preset].why.length).toBeGreaterThan(20);
    }
  });

  it('keep HIPAA envelopes for at least six calendar years, leap days included', () => {
    const created = Date.parse('2023-03-01T00:00:00.000Z');
    const sixYearsLater = Date.parse('2029-03-01T00:00:00.000Z');
    const { envelope } = resolveRetention({ contentDays: 90, envelopeDays: PRESET_DAYS.hipaa.envelope }, sixYearsLater);
    expect(isExpired(new Date(created).toISOString(), envelope)).toBe(false);
  });
});

import type { RetentionConfig, RetentionDays } from '../config/retention.js';

/**
 * The cutoffs retention periods give, and the boundary. Periods are whole days of DAY_MS (UTC
 * has no daylight saving, so a day is always that long), or `forever`.
 *
 * The boundary is strict: a record is removed when its `ts` < now - days, so a record exactly
 * `days` old is kept until the next cleanup. The periods themselves (presets, the `retention`
 * section) are configuration: src/config/retention.ts.
 */

export const DAY_MS = 86_400_000;

export interface RetentionCutoff {
  days: number;
  /** Records with `ts` strictly before this are removed: ISO 8601 UTC with milliseconds, like `ts`. */
  before: string;
  beforeMs: number;
}

/** Absent where the period is `forever`: nothing of that kind is removed. */
export interface RetentionCutoffs {
  content?: RetentionCutoff;
  envelope?: RetentionCutoff;
}

/** The cutoffs at `now`. Pure: the cleanup passes the clock in, and tests pass fixed times. */
export function resolveRetention(config: Pick<RetentionConfig, 'contentDays' | 'envelopeDays'>, now: Date | number): RetentionCutoffs {
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('resolveRetention needs a valid current time');
  const out: RetentionCutoffs = {};
  const content = cutoff(config.contentDays, nowMs, 'content');
  const envelope = cutoff(config.envelopeDays, nowMs, 'envelope');
  if (content) out.content = content;
  if (envelope) out.envelope = envelope;
  return out;
}

function cutoff(days: RetentionDays, nowMs: number, what: string): RetentionCutoff | undefined {
  if (days === 'forever') return undefined;
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`${what} retention must be a whole number of days, 0 or more, or 'forever'; got ${days}`);
  const beforeMs = nowMs - days * DAY_MS;
  return { days, before: new Date(beforeMs).toISOString(), beforeMs };
}

/** The strict boundary in one place, for code that holds a record's `ts`. */
export function isExpired(ts: string, cutoff: RetentionCutoff | undefined): boolean {
  return cutoff !== undefined && Date.parse(ts) < cutoff.beforeMs;
}

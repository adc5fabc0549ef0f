/**
 * Stores compare timestamps as strings, which is only right when both sides have the envelope's
 * exact form (`2026-01-31T09:30:00.000Z`): '2026-01-31T09:30:00Z' sorts after every record of that
 * second. So `since` and `until` are normalised to that form before they reach a store.
 */

// A zone is required on a time: without one it would silently mean the reader's local time.
const ZONED_ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

export class TimeBoundError extends Error {
  override readonly name = 'TimeBoundError';
}

/** One bound, normalised; throws a TimeBoundError naming the bound and the accepted form. */
export function normalizeTimeBound(value: string, what: string): string {
  const text = value.trim();
  const ms = ZONED_ISO.test(text) && isCalendarDate(text) ? Date.parse(text.toUpperCase()) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new TimeBoundError(
      `${what} must be an ISO 8601 date or time in UTC (2026-01-31T09:30:00Z) or with an offset (+02:00), got ${JSON.stringify(value.slice(0, 40))}`,
    );
  }
  return new Date(ms).toISOString();
}

/** Date.parse rolls 2026-02-30 over into March; a day that does not exist is refused instead. */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/** The same filter with `since` and `until` (when present) in the envelope's form. */
export function withNormalizedTimes<T extends { since?: string; until?: string }>(filter: T): T {
  return {
    ...filter,
    ...(filter.since === undefined ? {} : { since: normalizeTimeBound(filter.since, 'since') }),
    ...(filter.until === undefined ? {} : { until: normalizeTimeBound(filter.until, 'until') }),
  };
}

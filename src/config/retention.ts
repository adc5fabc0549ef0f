/**
 * Retention periods and the cutoffs they give. Periods are whole days of 86,400,000 ms (UTC has
 * no daylight saving, so a day is always that long), or `forever`.
 *
 * The boundary is strict: a record is removed when its `ts` < now - days, so a record exactly
 * `days` old is kept until the next cleanup. 0 days means "no retention period": content goes at
 * the first cleanup after it was written (it exists only between the write and that cleanup;
 * to never store it, use capture mode `hash` instead). Envelopes cannot be given 0, which would
 * delete the audit trail itself at every cleanup.
 */

export const RETENTION_PRESETS = ['standard', 'hipaa', 'gdpr'] as const;
export type RetentionPreset = (typeof RETENTION_PRESETS)[number];

export type RetentionDays = number | 'forever';

export const DAY_MS = 86_400_000;

/**
 * Each preset's periods, with why. Explicit `content_days` / `envelope_days` override them.
 * Content never outlives its envelope, so every preset keeps content no longer than envelopes.
 */
export const PRESET_DAYS: Readonly<Record<RetentionPreset, { content: number; envelope: number; why: string }>> = {
  standard: {
    content: 90,
    envelope: 365,
    why: 'a quarter of content for incident and quality review; a year of audit facts covers an annual audit period (SOC 2 Type II, ISO 27001)',
  },
  hipaa: {
    content: 90,
    envelope: 2192,
    why: 'HIPAA keeps compliance records six years (45 CFR 164.316(b)(2)): 6 x 365 plus two leap days; PHI in content no longer than review needs (minimum necessary)',
  },
  gdpr: {
    content: 30,
    envelope: 180,
    why: 'storage limitation (GDPR Art. 5(1)(e)): content a month, audit facts naming people six months (the short end of the CNIL guidance for security logs)',
  },
};

/** The `retention` section as the configuration loader resolves it: the preset already applied. */
export interface RetentionConfig {
  preset: RetentionPreset;
  contentDays: RetentionDays;
  envelopeDays: RetentionDays;
  cleanupIntervalMs: number;
  batchSize: number;
}

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

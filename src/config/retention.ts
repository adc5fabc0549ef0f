/**
 * Retention periods as configured: presets, and the `retention` section. Periods are whole days
 * of 86,400,000 ms (UTC has no daylight saving, so a day is always that long), or `forever`.
 * 0 days means "no retention period": content goes at the first cleanup after it was written (it
 * exists only between the write and that cleanup; to never store it, use capture mode `hash`
 * instead). Envelopes cannot be given 0, which would delete the audit trail itself at every
 * cleanup. The cutoffs these periods give, and the strict boundary, are the ledger's rules:
 * src/ledger/retention-cutoffs.ts.
 */

export const RETENTION_PRESETS = ['standard', 'hipaa', 'gdpr'] as const;
export type RetentionPreset = (typeof RETENTION_PRESETS)[number];

export type RetentionDays = number | 'forever';

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

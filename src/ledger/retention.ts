import type { RetentionConfig } from '../config/retention.js';
import { resolveRetention } from './retention-cutoffs.js';
import type { RecordInput } from '../record/types.js';
import type { Store } from '../store/store.js';
import type { LedgerContent } from './content.js';

/** What one cleanup removed; also the metadata of the `retention` record it appends. */
export interface RetentionReport {
  /** Content of records older than `cutoff` (strictly) deleted. */
  content?: { cutoff: string; deleted: number };
  /** Envelopes [from, below) pruned: all older than `cutoff`, and the log's prefix up to the first that is not. */
  envelopes?: { cutoff: string; from: number; below: number; count: number };
  /** The `retention` record stating this, when anything was removed. */
  recordId?: string;
  /** What this store could not do (JSONL files cannot lose their oldest lines). */
  skipped?: string;
}

export interface RetentionContext {
  store: Store;
  content: LedgerContent;
  config: Pick<RetentionConfig, 'contentDays' | 'envelopeDays' | 'batchSize'>;
  record: (input: RecordInput) => Promise<{ id: string }>;
  /** Publishes a checkpoint whose signed pruning horizon is `below`; rows below it may be deleted once it resolves. */
  raiseHorizon: (below: number) => Promise<void>;
}

/**
 * One retention pass. Content goes first (no proof depends on it). Envelopes are pruned only as
 * a prefix of the log, and the `retention` record stating the range is committed before any
 * row is deleted, so `verify` always knows from the log itself which records may be absent.
 * Runs in batches of `batchSize`; `maxPerRun` bounds one pass so a first cleanup of a large
 * backlog never holds the writer for long (the next pass continues).
 */
export async function runRetention(ctx: RetentionContext, now: number, maxPerRun = ctx.config.batchSize * 20): Promise<RetentionReport> {
  const cutoffs = resolveRetention(ctx.config, now);
  const report: RetentionReport = {};
  if (cutoffs.content) {
    const deleted = await ctx.content.expire(cutoffs.content.before, ctx.config.batchSize, maxPerRun);
    if (deleted > 0) report.content = { cutoff: cutoffs.content.before, deleted };
  }
  const pruning = ctx.store.pruning;
  if (cutoffs.envelope && !pruning) {
    report.skipped = `${ctx.store.location} cannot prune envelopes; those older than ${cutoffs.envelope.before} are kept (envelope retention needs a SQLite store)`;
  }
  if (cutoffs.envelope && pruning) {
    const from = await pruning.prunedBelow();
    const below = Math.min(await pruning.firstKeptIndex(from, cutoffs.envelope.before), from + maxPerRun);
    if (below > from) report.envelopes = { cutoff: cutoffs.envelope.before, from, below, count: below - from };
  }
  if (!report.content && !report.envelopes) return report;
  const { content, envelopes } = report;
  const { id } = await ctx.record({
    kind: 'retention',
    component: 'retention',
    metadata: { ...(content ? { content } : {}), ...(envelopes ? { envelopes } : {}) },
  });
  report.recordId = id;
  if (report.envelopes && pruning) {
    // Signed before any row goes: `verify` trusts no horizon that the log's signature does not state.
    await ctx.raiseHorizon(report.envelopes.below);
    for (let n = -1; n !== 0;) n = await pruning.prune(report.envelopes.below, ctx.config.batchSize);
  }
  return report;
}

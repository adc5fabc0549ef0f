import type { Command } from 'commander';
import type { RetentionConfig } from '../../config/retention.js';
import { resolveRetention } from '../../ledger/retention-cutoffs.js';
import type { RetentionReport } from '../../ledger/retention.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { printable } from '../../ledger/printable.js';

/**
 * One pass is bounded (so a long-running process never holds the writer for long); a manual
 * cleanup wants the whole backlog gone, so passes repeat until one removes nothing. The bound
 * only guards against a store that keeps reporting removals without removing anything.
 */
const MAX_PASSES = 100_000;

export function registerCleanup(program: Command, ctx: CliContext): void {
  program
    .command('cleanup')
    .description('apply the configured retention now: delete expired content, then prune expired envelopes as a prefix of the log')
    .option('--json', 'print { now, retention, passes } as JSON, one retention report per pass')
    .addHelpText(
      'after',
      `${examples('llm-ledger cleanup', 'llm-ledger --config /etc/llm-ledger.yaml cleanup --json')}\n\n` +
        'Periods come from the retention section (preset standard: content 90 days, envelopes 365). The boundary is\n' +
        'strict: a record is removed when it is older than now minus the period. Each pass that removes anything first\n' +
        'appends a retention record stating the cutoff, the index range and the count; leaf hashes are kept, so verify\n' +
        'and every proof still pass. The gateway also runs this on a schedule (retention.cleanup_interval_ms).',
    )
    .action((opts: { json?: boolean }) =>
      withLedger(
        ctx.config(),
        async (ledger, cfg) => {
          // One clock for every pass: content written while this runs is not swept up by a later pass.
          const now = Date.now();
          const passes: RetentionReport[] = [];
          for (let i = 0; i < MAX_PASSES; i++) {
            const report = await ledger.cleanup(now);
            passes.push(report);
            if (!report.content && !report.envelopes) break;
          }
          out(opts.json ? jsonText({ now: new Date(now).toISOString(), retention: cfg.retention, passes }) : formatCleanup(cfg.retention, now, passes));
          return EXIT.ok;
        },
        { writable: true },
      ),
    );
}

function formatCleanup(retention: RetentionConfig, now: number, passes: readonly RetentionReport[]): string {
  const cutoffs = resolveRetention(retention, now);
  const period = (days: number | 'forever') => (days === 'forever' ? 'forever' : `${days} days`);
  const lines = [`Retention (preset ${retention.preset}): content ${period(retention.contentDays)}, envelopes ${period(retention.envelopeDays)}.`];

  const contentDeleted = passes.reduce((n, p) => n + (p.content?.deleted ?? 0), 0);
  if (!cutoffs.content) lines.push('Content: kept forever.');
  else lines.push(`Content: ${contentDeleted} item(s) older than ${cutoffs.content.before} deleted.`);

  const pruned = passes.flatMap((p) => (p.envelopes ? [p.envelopes] : []));
  if (!cutoffs.envelope) {
    lines.push('Envelopes: kept forever.');
  } else if (pruned.length === 0) {
    lines.push(`Envelopes: none older than ${cutoffs.envelope.before} to prune.`);
  } else {
    const count = pruned.reduce((n, e) => n + e.count, 0);
    lines.push(
      `Envelopes: ${count} older than ${cutoffs.envelope.before} pruned (indexes ${pruned[0]!.from} to ${pruned.at(-1)!.below - 1}); their leaf hashes are kept, so verify and every proof still pass.`,
    );
  }
  const skipped = new Set(passes.flatMap((p) => (p.skipped ? [p.skipped] : [])));
  for (const note of skipped) lines.push(`note: ${printable(note)}`);
  const records = passes.flatMap((p) => (p.recordId ? [p.recordId] : []));
  lines.push(records.length === 0 ? 'Nothing was removed, so no retention record was added.' : `Recorded as retention record(s) ${records.join(', ')}.`);
  return lines.join('\n');
}

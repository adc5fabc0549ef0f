import { InvalidArgumentError, Option, type Command } from 'commander';
import { ANOMALY_DEFAULTS, ANOMALY_GROUPS, BUCKETS_PER_WINDOW, type AnomalyGroup, type AnomalyReport } from '../../ledger/anomalies.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { addFilterOptions, dateOption, searchFilter, type FilterOptions } from '../filters.js';
import { ACCEPTED_DURATION_FORMS, formatDuration, parseDurationArgument } from '../durations.js';
import { EXIT } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { renderTable } from '../table.js';

interface AnomalyCliOptions extends FilterOptions {
  window: number;
  baseline: number;
  by: AnomalyGroup;
  sigma: number;
  json?: boolean;
}

const duration = (flag: string) => (value: string) => {
  try {
    return parseDurationArgument(value, flag);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number, such as 3 or 2.5');
  return n;
};

const HELP = `
How it works (say so in any report that relies on it):
  Token usage. The window (--window, ending now or at --until) is cut into ${BUCKETS_PER_WINDOW} equal buckets
  (1 hour for 24h), and the baseline (--baseline, the period just before the window) into as many
  buckets of the same length as fit (168 for 7d). For each user (or model, provider: --by), the
  mean and sample standard deviation of input+output tokens per baseline bucket are computed,
  buckets without calls counting as 0. The window's total is flagged when it exceeds ${BUCKETS_PER_WINDOW} x mean
  by more than --sigma (default 3) x the standard deviation of a ${BUCKETS_PER_WINDOW}-bucket total, which is
  sqrt(${BUCKETS_PER_WINDOW}) x the bucket deviation if buckets are independent. Token counts are heavy-tailed, so
  3 sigma flags more than the 0.13% a normal distribution would: treat flags as leads to review,
  not findings. Users with calls in the window and none in the baseline cannot be scored and are
  listed apart as new.
  Error rates. For each model, errors in the window are compared with the model's baseline error
  rate, smoothed as (errors + 1) / (calls + 2) so that a clean baseline still allows a rare error.
  A model is flagged when the exact binomial probability of seeing at least that many errors at
  the baseline rate is below the one-sided tail of --sigma standard deviations (0.135% for 3).
  This accounts for sample size: 2 errors in 3 calls is not a spike, 50 in 500 after a 1% week is.`;

export function anomaliesTable(report: AnomalyReport): string {
  const lines: string[] = [
    `Window ${report.window.since} .. ${report.window.until}, baseline ${report.baseline.since} .. ${report.baseline.until} (buckets of ${formatDuration(report.bucketMs)}), ${report.sigma} sigma.`,
    '',
  ];
  const right = { align: 'right' } as const;
  if (report.tokenAnomalies.length === 0) lines.push(`Token usage: no ${report.by} beyond ${report.sigma} standard deviations.`);
  else {
    lines.push(`Token usage beyond ${report.sigma} standard deviations, by ${report.by}:`);
    lines.push(
      renderTable(
        [
          { header: report.by.toUpperCase() },
          { header: 'TOKENS', ...right },
          { header: 'CALLS', ...right },
          { header: 'EXPECTED', ...right },
          { header: 'STD DEV', ...right },
          { header: 'Z', ...right },
        ],
        report.tokenAnomalies.map((a) => [a.key, a.windowTokens, a.windowCalls, Math.round(a.expectedTokens), Math.round(a.standardDeviation), a.z.toFixed(1)]),
      ),
    );
  }
  if (report.newKeys.length > 0) {
    lines.push('', `New in the window (no baseline to compare with), by ${report.by}:`);
    lines.push(
      renderTable(
        [{ header: report.by.toUpperCase() }, { header: 'TOKENS', ...right }, { header: 'CALLS', ...right }],
        report.newKeys.map((k) => [k.key, k.windowTokens, k.windowCalls]),
      ),
    );
  }
  lines.push('');
  if (report.errorSpikes.length === 0) lines.push('Error rates: no model has an error-rate spike.');
  else {
    lines.push('Error-rate spikes by model:');
    lines.push(
      renderTable(
        [
          { header: 'MODEL' },
          { header: 'ERRORS', ...right },
          { header: 'CALLS', ...right },
          { header: 'RATE', ...right },
          { header: 'BASELINE RATE', ...right },
          { header: 'P-VALUE', ...right },
        ],
        report.errorSpikes.map((s) => [
          s.model,
          s.windowErrors,
          s.windowCalls,
          `${(s.windowErrorRate * 100).toFixed(1)}%`,
          `${(s.baselineErrorRate * 100).toFixed(2)}%`,
          s.pValue.toExponential(2),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export function registerAnomalies(program: Command, ctx: CliContext): void {
  const command = program
    .command('anomalies')
    .description('token usage beyond 3 standard deviations of its baseline, and error-rate spikes by model')
    .option('--window <duration>', `the period examined, ending now or at --until: ${ACCEPTED_DURATION_FORMS}`, duration('--window'), ANOMALY_DEFAULTS.windowMs)
    .option(
      '--baseline <duration>',
      'the period just before the window that defines normal; at least the window',
      duration('--baseline'),
      ANOMALY_DEFAULTS.baselineMs,
    )
    .option('--until <date>', 'end of the window (default now); same forms as search --until', dateOption('--until'))
    .addOption(new Option('--by <group>', 'whose token usage is compared with its own baseline').choices(ANOMALY_GROUPS).default(ANOMALY_DEFAULTS.by))
    .option('--sigma <n>', 'how many standard deviations count as anomalous', positiveNumber, ANOMALY_DEFAULTS.sigma)
    .option('--json', 'print the report as JSON');
  addFilterOptions(command, { time: false, kind: false }).addHelpText(
    'after',
    `${examples('llm-ledger anomalies', 'llm-ledger anomalies --window 6h --baseline 3d --by model', 'llm-ledger anomalies --provider openai --json')}\n${HELP}`,
  );
  command.action((opts: AnomalyCliOptions) =>
    withLedger(ctx.config(), async (ledger) => {
      const report = await ledger.anomalies({
        ...searchFilter(opts),
        windowMs: opts.window,
        baselineMs: opts.baseline,
        by: opts.by,
        sigma: opts.sigma,
      });
      out(opts.json ? jsonText(report) : anomaliesTable(report));
      return EXIT.ok;
    }),
  );
}

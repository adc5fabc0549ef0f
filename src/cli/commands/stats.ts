import { Option, type Command } from 'commander';
import { STATS_GROUPS, type StatsGroup, type StatsReport, type StatsRow } from '../../ledger/stats.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { addFilterOptions, searchFilter, type FilterOptions } from '../filters.js';
import { jsonText } from '../json.js';
import type { StatsCopiesCheck } from '../../store/store.js';
import { renderTable } from '../table.js';

interface StatsOptions extends FilterOptions {
  by?: StatsGroup;
  json?: boolean;
  check?: boolean;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const latency = (v: number | null) => (v === null ? '-' : `${v}`);

export function statsTable(report: StatsReport, by: StatsGroup | undefined): string {
  const row = (r: StatsRow) => [
    r.key,
    r.requests,
    percent(r.errorRate),
    percent(r.blockRate),
    r.inputTokens,
    r.outputTokens,
    `$${r.costUsd.toFixed(6)}`,
    latency(r.latencyP50),
    latency(r.latencyP95),
    latency(r.latencyP99),
  ];
  const right = { align: 'right' } as const;
  return renderTable(
    [
      { header: (by ?? '').toUpperCase() || 'ALL' },
      { header: 'CALLS', ...right },
      { header: 'ERRORS', ...right },
      { header: 'BLOCKED', ...right },
      { header: 'INPUT TOKENS', ...right },
      { header: 'OUTPUT TOKENS', ...right },
      { header: 'COST', ...right },
      { header: 'P50 MS', ...right },
      { header: 'P95 MS', ...right },
      { header: 'P99 MS', ...right },
    ],
    [...report.groups.map(row), row(report.totals)],
  );
}

export function registerStats(program: Command, ctx: CliContext): void {
  const command = program
    .command('stats')
    .description('call statistics: calls, tokens, cost, latency p50/p95/p99, error and block rates, in total or per group')
    .addOption(new Option('--by <group>', 'one row per model, user, provider or UTC day').choices(STATS_GROUPS))
    .option('--json', 'print { totals, groups } as JSON')
    .option('--check', 'instead of stats, check that the copies of the records stats read agree with the records (exit 1 if not)');
  addFilterOptions(command).addHelpText(
    'after',
    `${examples('llm-ledger stats', 'llm-ledger stats --by model --since 7d', 'llm-ledger stats --by day --user alice --json', 'llm-ledger stats --check')}

Only calls (kind llm.call) are counted unless --kind names another kind. Percentiles are exact
(nearest rank over every latency recorded); calls without a latency count everywhere else.
A SQLite ledger answers stats from a copy of each call's numbers; verify compares that copy with
the records (as part of checking the whole log), and --check compares only that copy.`,
  );
  command.action((opts: StatsOptions) =>
    withLedger(ctx.config(), async (ledger) => {
      if (opts.check) {
        const check = await ledger.checkStats();
        out(opts.json ? jsonText(check ?? null) : checkText(check));
        return check && check.problems.length > 0 ? EXIT.failed : EXIT.ok;
      }
      const report = await ledger.stats({ ...searchFilter(opts), ...(opts.by ? { by: opts.by } : {}) });
      out(opts.json ? jsonText(report) : report.totals.requests === 0 ? 'No calls match.' : statsTable(report, opts.by));
      return EXIT.ok;
    }),
  );
}

function checkText(check: StatsCopiesCheck | undefined): string {
  if (!check) return 'This store keeps no copies for stats: they read the records, which verify checks.';
  if (check.problems.length === 0) return `The copies stats read agree with the records (${check.calls} calls, ${check.blocks} blocks).`;
  return [...check.problems, "Stats read this copy, not the records: their figures would be wrong. 'llm-ledger verify' reports it too."].join('\n');
}

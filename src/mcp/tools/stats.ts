import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LedgerReader } from '../../ledger/ledger.js';
import { searchFilterOf } from '../filters.js';
import { guarded, toolResult } from '../results.js';
import { statsInput, statsOutput } from '../schemas.js';
import { statsLine } from '../summary.js';
import { READ_ONLY } from './read-only.js';

/** Grouping by user can yield one group per user; only the busiest are returned. */
export const MAX_STATS_GROUPS = 100;

export function registerStatsTool(server: McpServer, ledger: LedgerReader): void {
  server.registerTool(
    'audit_stats',
    {
      title: 'Usage statistics',
      description:
        'Totals over matching records (llm.call unless kind says otherwise): requests, errors and error rate, blocks and block rate, tokens, ' +
        `cost in USD, latency p50/p95/p99 in ms; with "by", also per model, user, day (UTC) or provider, busiest first (at most ${MAX_STATS_GROUPS} groups).`,
      inputSchema: statsInput,
      outputSchema: statsOutput,
      annotations: READ_ONLY,
    },
    ({ by, ...filters }) =>
      guarded(async () => {
        const report = await ledger.stats({ ...searchFilterOf(filters), ...(by === undefined ? {} : { by }) });
        const groups = report.groups.slice(0, MAX_STATS_GROUPS);
        const lines = [statsLine(report.totals)];
        if (by !== undefined) {
          lines.push(`By ${by} (${report.groups.length} group(s)${groups.length < report.groups.length ? `, busiest ${groups.length} shown` : ''}):`);
          lines.push(...groups.map((row) => `  ${statsLine(row)}`));
        }
        return toolResult(lines.join('\n'), { totals: report.totals, groups, groupCount: report.groups.length });
      }),
  );
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LedgerReader } from '../../ledger/ledger.js';
import { searchFilterOf } from '../filters.js';
import { guarded, toolResult } from '../results.js';
import { searchInput, searchOutput } from '../schemas.js';
import { recordLine } from '../summary.js';
import { READ_ONLY } from './read-only.js';

export function registerSearchTool(server: McpServer, ledger: LedgerReader): void {
  server.registerTool(
    'audit_search',
    {
      title: 'Search the audit log',
      description:
        'Find audit records (envelopes only: who, when, model, status, tokens, cost; never prompt or response text), newest first. ' +
        'All filters are optional and combine with AND. Page with the returned nextCursor.',
      inputSchema: searchInput,
      outputSchema: searchOutput,
      annotations: READ_ONLY,
    },
    ({ limit, cursor, ...filters }) =>
      guarded(async () => {
        const { records, nextCursor } = await ledger.search({ ...searchFilterOf(filters), limit, ...(cursor === undefined ? {} : { cursor }) });
        const lines = [
          records.length === 0 ? 'No records match.' : `${records.length} record(s), newest first:`,
          ...records.map(recordLine),
          ...(nextCursor === undefined ? [] : [`More may match: call again with cursor "${nextCursor}".`]),
        ];
        return toolResult(lines.join('\n'), { count: records.length, records, ...(nextCursor === undefined ? {} : { nextCursor }) });
      }),
  );
}

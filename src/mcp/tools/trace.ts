import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LedgerReader } from '../../ledger/ledger.js';
import { printable } from '../../ledger/printable.js';
import type { LoggedRecord } from '../../record/types.js';
import { guarded, toolResult, ToolArgumentError } from '../results.js';
import { traceInput, traceOutput } from '../schemas.js';
import { recordLine } from '../summary.js';
import { READ_ONLY } from './read-only.js';

/** A trace is one request's events; a crafted trace id shared by millions must not flood the client. */
export const MAX_TRACE_RECORDS = 500;

export function registerTraceTool(server: McpServer, ledger: LedgerReader): void {
  server.registerTool(
    'audit_trace',
    {
      title: 'Show the timeline of one request',
      description: `List every record of one trace (the llm.call and the gateway component events of one request) in log order, as a timeline. At most ${MAX_TRACE_RECORDS} records.`,
      inputSchema: traceInput,
      outputSchema: traceOutput,
      annotations: READ_ONLY,
    },
    ({ traceId }) =>
      guarded(async () => {
        const all = await ledger.trace(traceId);
        if (all.length === 0) throw new ToolArgumentError(printable(`no records with traceId ${JSON.stringify(traceId)}; find trace ids with audit_search`));
        const records = all.slice(0, MAX_TRACE_RECORDS);
        const truncated = all.length > records.length;
        const lines = [
          `Trace ${printable(traceId)}: ${all.length} record(s) in log order${truncated ? `, first ${records.length} shown` : ''}`,
          ...timeline(records),
        ];
        return toolResult(lines.join('\n'), { traceId, count: all.length, records, truncated });
      }),
  );
}

/** Each line starts with the time since the trace's first record, so gaps and retries stand out. */
function timeline(records: LoggedRecord[]): string[] {
  const start = Date.parse(records[0]?.envelope.ts ?? '');
  return records.map((r) => `+${Date.parse(r.envelope.ts) - start}ms ${recordLine(r)}`);
}

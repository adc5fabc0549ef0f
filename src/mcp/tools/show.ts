import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LedgerReader } from '../../ledger/ledger.js';
import type { LoggedRecord } from '../../record/types.js';
import { printable } from '../../ledger/printable.js';
import { guarded, toolResult, ToolArgumentError } from '../results.js';
import { showInput, showOutput } from '../schemas.js';
import { recordLine } from '../summary.js';
import { READ_ONLY } from './read-only.js';

/** Records sharing one request id that are looked at to pick the one to show. */
const SAME_REQUEST_LIMIT = 100;

export function registerShowTool(server: McpServer, ledger: LedgerReader): void {
  server.registerTool(
    'audit_show',
    {
      title: 'Show one audit record',
      description:
        'Show the full envelope of one record, by id or by requestId (give exactly one). The envelope holds ids, time, user, key prefix, ' +
        'provider, model, status, tokens, latency, cost, safety and tool facts and keyed digests; it never holds prompt or response text.',
      inputSchema: showInput,
      outputSchema: showOutput,
      annotations: READ_ONLY,
    },
    ({ id, requestId }) =>
      guarded(async () => {
        // Content (prompt, response) is kept apart from the envelope and is never read here. A future
        // reveal must be gated by an `mcp.allow_reveal` configuration flag (off by default), demand a
        // reason and append a `content_accessed` record, exactly as the CLI's `show --reveal` does.
        if ((id === undefined) === (requestId === undefined)) throw new ToolArgumentError('give exactly one of id or requestId');
        const record = id !== undefined ? await ledger.get(id) : await byRequestId(ledger, requestId as string);
        if (!record) {
          const named = id !== undefined ? `id ${JSON.stringify(id)}` : `requestId ${JSON.stringify(requestId)}`;
          throw new ToolArgumentError(printable(`no record with ${named}; find ids with audit_search`));
        }
        const { records: same } = await ledger.search({ requestId: record.envelope.requestId, limit: SAME_REQUEST_LIMIT });
        const others = same.length > 1 ? `\n${same.length} records share this requestId; list them with audit_search { requestId }.` : '';
        return toolResult(`${recordLine(record)}${others}`, { record, sameRequestId: same.length });
      }),
  );
}

/** The llm.call record of a request if there is one, else its newest record. */
async function byRequestId(ledger: LedgerReader, requestId: string): Promise<LoggedRecord | undefined> {
  const { records } = await ledger.search({ requestId, limit: SAME_REQUEST_LIMIT });
  return records.find((r) => r.envelope.kind === 'llm.call') ?? records[0];
}

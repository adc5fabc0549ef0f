import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { LedgerReader } from '../ledger/ledger.js';
import { registerSearchTool } from './tools/search.js';
import { registerShowTool } from './tools/show.js';
import { registerStatsTool } from './tools/stats.js';
import { registerTraceTool } from './tools/trace.js';
import { registerVerifyTool } from './tools/verify.js';

/**
 * The MCP server over one open ledger: read-only audit tools and nothing else. It knows no
 * transport; `serveOverStdio` connects it to the process's stdin and stdout.
 */
export function createMcpServer(ledger: LedgerReader): McpServer {
  const server = new McpServer(
    { name: 'llm-ledger', title: 'llm-ledger audit trail', version: packageVersion() },
    {
      instructions:
        'Read-only access to a tamper-evident audit trail of LLM calls. Records hold envelopes only (who, when, model, status, tokens, cost, ' +
        'latency, digests); prompt and response text is never available here. Use audit_search to find records, audit_show for one record, ' +
        'audit_trace for the timeline of one request, audit_stats for usage figures and audit_verify to check that the log is intact.',
    },
  );
  registerSearchTool(server, ledger);
  registerShowTool(server, ledger);
  registerTraceTool(server, ledger);
  registerStatsTool(server, ledger);
  registerVerifyTool(server, ledger);
  return server;
}

/** package.json sits two levels above both src/mcp and dist/mcp. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

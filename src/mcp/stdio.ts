import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { LedgerReader } from '../ledger/ledger.js';
import { createMcpServer } from './server.js';

/**
 * Serves the audit tools on stdin/stdout until the client goes away (stdin ends) or the process
 * is asked to stop; resolves then, so the caller can close the ledger cleanly.
 */
export async function serveOverStdio(ledger: LedgerReader): Promise<void> {
  // stdout carries protocol messages only: one stray console.log from any library would corrupt
  // the stream, so console output that would go there goes to stderr for the server's lifetime.
  console.log = console.info = console.debug = console.error;
  const server = createMcpServer(ledger);
  const transport = new StdioServerTransport();
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void server.close().finally(resolve);
    };
    process.stdin.once('end', stop);
    process.stdin.once('close', stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.connect(transport);
  process.stderr.write(
    `llm-ledger MCP server ready on stdio (${ledger.location}); read-only tools: audit_search, audit_show, audit_trace, audit_stats, audit_verify\n`,
  );
  await stopped;
}

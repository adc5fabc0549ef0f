import type { Command } from 'commander';
import { examples, withLedger, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

export function registerMcp(program: Command, ctx: CliContext): void {
  program
    .command('mcp')
    .description('serve read-only audit tools (audit_search, audit_show, audit_trace, audit_stats, audit_verify) to an MCP client over stdio')
    .addHelpText(
      'after',
      `${examples('llm-ledger mcp', 'llm-ledger --config /etc/llm-ledger/llm-ledger.yaml mcp')}\n\n` +
        'An MCP client starts it (see docs/mcp.md for the client configuration); stdout carries protocol messages only,\n' +
        'logs go to stderr. The ledger is opened read-only, and no tool can reveal stored content.',
    )
    .action(() =>
      withLedger(ctx.config(), async (ledger) => {
        // Loaded on demand: the MCP SDK is not needed by any other command.
        const { serveOverStdio } = await import('../../mcp/stdio.js');
        await serveOverStdio(ledger);
        return EXIT.ok;
      }),
    );
}

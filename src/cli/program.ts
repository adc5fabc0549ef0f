import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ignoreClosedOutput } from './closed-output.js';
import { registerAnomalies } from './commands/anomalies.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerErase } from './commands/erase.js';
import { registerExport } from './commands/export.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerMcp } from './commands/mcp.js';
import { registerProofs } from './commands/proofs.js';
import { registerRepair } from './commands/repair.js';
import { registerReview } from './commands/review.js';
import { registerSearch } from './commands/search.js';
import { registerShow } from './commands/show.js';
import { registerStats } from './commands/stats.js';
import { registerTrace } from './commands/trace.js';
import { out, withLedger, type CliContext } from './context.js';
import { runDemo } from './demo.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

// Before anything is written: a reader that closes the pipe early ends no command with an error.
ignoreClosedOutput();

const program = new Command('llm-ledger')
  .description('Tamper-evident, privacy-first audit trail for LLM traffic')
  .option('-c, --config <file>', 'configuration file (default: ./llm-ledger.yaml if present)')
  .addHelpText(
    'after',
    '\nExit codes: 0 success, 1 verification failed (or an invalid proof, or content failing its integrity check),\n2 bad usage, configuration or input (a missing or wrong key included), 3 the ledger could not be opened or read,\n4 no record, request or trace with the id given (or no stored content to reveal).\n\nQueries open the ledger read-only; only show --reveal, erase, cleanup and demo append to it.\n\nExamples:\n  $ llm-ledger init\n  $ llm-ledger search --since 24h --status error',
  )
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for the options and examples)')
  // Commander's own usage errors must exit 2, not its default 1 (which means "verification failed" here).
  .exitOverride();

const config = (): string | undefined => program.opts<{ config?: string }>().config;
const context: CliContext = { config };

// In the order --help lists them: set-up, queries, proofs, then the commands that change data.
registerInit(program, context);
registerSearch(program, context);
registerShow(program, context);
registerTrace(program, context);
registerStats(program, context);
registerAnomalies(program, context);
registerExport(program, context);
registerProofs(program, context);
registerErase(program, context);
registerCleanup(program, context);
registerRepair(program, context);
registerKeys(program, context);
registerReview(program, context);
registerMcp(program, context);

program
  .command('demo')
  .description('record simulated LLM traffic into the configured ledger, then search, trace, stats, verify and prove it')
  .addHelpText('after', '\nExample:\n  $ llm-ledger demo')
  .action(() => withLedger(config(), (ledger) => runDemo(ledger, out), { writable: true, create: true }));

program
  .command('serve')
  .description('run the audit gateway: OpenAI- and Anthropic-compatible endpoints on 127.0.0.1 that record every call in the ledger')
  .option('-p, --port <port>', 'listen on this port instead of gateway.port (0: any free port)', (value: string) => {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
    return Number(value);
  })
  .addHelpText(
    'after',
    '\nPoint clients at it: OpenAI SDKs with baseURL http://127.0.0.1:8787/v1, Anthropic SDKs with baseURL http://127.0.0.1:8787.\nSIGTERM or SIGINT stops it gracefully: requests in flight finish and every record is written.\n\nExamples:\n  $ llm-ledger serve\n  $ llm-ledger --config /etc/llm-ledger.yaml serve --port 9000',
  )
  .action(async (opts: { port?: number }) => {
    // Loaded on demand: no other command needs the gateway.
    const { serve } = await import('../gateway/http/serve.js');
    process.exitCode = await serve({
      ...(config() === undefined ? {} : { configPath: config()! }),
      ...(opts.port === undefined ? {} : { port: opts.port }),
      out,
      err: (line) => process.stderr.write(`${line}\n`),
    });
  });

program.parseAsync().catch((err: Error) => {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (and a hint to --help, for a usage error).
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return;
  }
  process.stderr.write(`llm-ledger: ${err.message}\n`);
  process.exitCode = exitCodeFor(err);
});

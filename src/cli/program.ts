import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { serializeProof, verifyProof } from '../log/proof.js';
import { registerAnomalies } from './commands/anomalies.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerErase } from './commands/erase.js';
import { registerExport } from './commands/export.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerSearch } from './commands/search.js';
import { registerShow } from './commands/show.js';
import { registerStats } from './commands/stats.js';
import { registerTrace } from './commands/trace.js';
import { examples, out, withLedger, type CliContext } from './context.js';
import { runDemo } from './demo.js';
import { EXIT, exitCodeFor, NotFoundError } from './exit-codes.js';
import { jsonText } from './json.js';
import { progressOnTerminal } from './progress.js';
import { formatProofVerification, formatVerifyReport } from './report.js';
import { printable } from './text.js';

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

registerSearch(program, context);
registerShow(program, context);
registerTrace(program, context);
registerStats(program, context);
registerAnomalies(program, context);
registerExport(program, context);
registerErase(program, context);
registerCleanup(program, context);
registerKeys(program, context);
registerInit(program, context);

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
    const { serve } = await import('../gateway/serve.js');
    process.exitCode = await serve({ ...(config() === undefined ? {} : { configPath: config()! }), ...(opts.port === undefined ? {} : { port: opts.port }), out, err: (line) => process.stderr.write(`${line}\n`) });
  });

program
  .command('verify')
  .description('recompute the Merkle tree and check every stored and anchored checkpoint; exit 0 only if the log is intact')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', '\nExamples:\n  $ llm-ledger verify\n  $ llm-ledger verify --json')
  .action((opts: { json?: boolean }) =>
    withLedger(config(), async (ledger) => {
      const progress = progressOnTerminal('verify');
      const report = await ledger.verify({ onProgress: (done, total) => progress.update(done, total) }).finally(() => progress.stop());
      out(opts.json ? jsonText(report) : formatVerifyReport(report));
      return report.ok ? EXIT.ok : EXIT.failed;
    }),
  );

program
  .command('prove <id>')
  .description('write a self-contained inclusion proof for one record')
  .option('-o, --out <file>', 'write the bundle to this file instead of stdout')
  .addHelpText('after', '\nExample:\n  $ llm-ledger prove 019a... --out bundle.json\n\nExit code 4 when no record has that id.')
  .action((id: string, opts: { out?: string }) =>
    withLedger(config(), async (ledger) => {
      if (!(await ledger.get(id))) throw new NotFoundError(`no record with id ${printable(id)}; find ids with 'llm-ledger search'`);
      const bundle = serializeProof(await ledger.prove(id));
      if (opts.out) writeFileSync(opts.out, bundle);
      else process.stdout.write(bundle);
      return EXIT.ok;
    }),
  );

program
  .command('verify-proof <bundle>')
  .description('check a proof bundle offline, with no database')
  .option('--key <verifierKey>', "the ledger's published verifier key; without it the bundle is only checked for internal consistency")
  .option('--json', 'print the result as JSON')
  .addHelpText('after', '\nExample:\n  $ llm-ledger verify-proof bundle.json --key "llm-ledger.local/default+1a2b3c4d+AQ..."')
  .action((file: string, opts: { key?: string; json?: boolean }) => {
    const result = verifyProof(readFileSync(file), opts.key === undefined ? {} : { trustedVerifierKey: opts.key });
    out(opts.json ? JSON.stringify(result, null, 2) : formatProofVerification(result));
    process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
  });

program
  .command('mcp')
  .description('serve read-only audit tools (audit_search, audit_show, audit_trace, audit_stats, audit_verify) to an MCP client over stdio')
  .addHelpText(
    'after',
    `${examples('llm-ledger mcp', 'llm-ledger --config /etc/llm-ledger/llm-ledger.yaml mcp')}\n\n` +
      'An MCP client starts it (see the README for the client configuration); stdout carries protocol messages only,\n' +
      'logs go to stderr. The ledger is opened read-only, and no tool can reveal stored content.',
  )
  .action(() =>
    withLedger(config(), async (ledger) => {
      // Loaded on demand: the MCP SDK is not needed by any other command.
      const { serveOverStdio } = await import('../mcp/stdio.js');
      await serveOverStdio(ledger);
      return EXIT.ok;
    }),
  );

program.parseAsync().catch((err: Error) => {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (and a hint to --help, for a usage error).
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return;
  }
  process.stderr.write(`llm-ledger: ${err.message}\n`);
  process.exitCode = exitCodeFor(err);
});

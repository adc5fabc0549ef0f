import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { openLedger } from '../ledger/open-ledger.js';
import type { Ledger } from '../ledger/ledger.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import { runDemo } from './demo.js';
import { formatProofVerification, formatVerifyReport } from './report.js';

/** Exit codes: 0 ok, 1 verification failed, 2 bad usage or input, 3 the ledger could not be read. */
const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const;

const out = (line: string) => process.stdout.write(`${line}\n`);

async function withLedger(config: string | undefined, run: (ledger: Ledger) => Promise<number>): Promise<void> {
  const ledger = await openLedger(config, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  try {
    process.exitCode = await run(ledger);
  } finally {
    await ledger.close();
  }
}

const program = new Command('llm-ledger')
  .description('Tamper-evident, privacy-first audit trail for LLM traffic')
  .option('-c, --config <file>', 'configuration file (default: ./llm-ledger.yaml if present)')
  .showHelpAfterError();

const config = (): string | undefined => program.opts<{ config?: string }>().config;

program
  .command('demo')
  .description('record simulated LLM traffic into the configured ledger, then search, trace, stats, verify and prove it')
  .addHelpText('after', '\nExample:\n  $ llm-ledger demo')
  .action(() => withLedger(config(), (ledger) => runDemo(ledger, out)));

program
  .command('verify')
  .description('recompute the Merkle tree and check every stored and anchored checkpoint; exit 0 only if the log is intact')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', '\nExamples:\n  $ llm-ledger verify\n  $ llm-ledger verify --json')
  .action((opts: { json?: boolean }) =>
    withLedger(config(), async (ledger) => {
      const report = await ledger.verify();
      out(opts.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
      return report.ok ? EXIT.ok : EXIT.failed;
    }),
  );

program
  .command('prove <id>')
  .description('write a self-contained inclusion proof for one record')
  .option('-o, --out <file>', 'write the bundle to this file instead of stdout')
  .addHelpText('after', '\nExample:\n  $ llm-ledger prove 019a... --out bundle.json')
  .action((id: string, opts: { out?: string }) =>
    withLedger(config(), async (ledger) => {
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

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`llm-ledger: ${err.message}\n`);
  process.exitCode = err.name === 'ConfigError' || err.name === 'RecordValidationError' || err.name === 'LedgerError' ? EXIT.usage : EXIT.unavailable;
});

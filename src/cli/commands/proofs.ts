import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { serializeProof, verifyProof } from '../../log/proof.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, NotFoundError, UsageError } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { progressOnTerminal } from '../progress.js';
import { formatProofVerification, formatVerifyReport } from '../../ledger/report-text.js';
import { printable } from '../../ledger/printable.js';

/** verify, prove and verify-proof: the tamper evidence, from the whole log down to one offline bundle. */
export function registerProofs(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('recompute the Merkle tree and check every stored and anchored checkpoint; exit 0 only if the log is intact')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger verify', 'llm-ledger verify --json')}\n\nExit code 1 when the log does not verify; the report names the first bad index.`,
    )
    .action((opts: { json?: boolean }) =>
      withLedger(ctx.config(), async (ledger) => {
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
    .addHelpText('after', `${examples('llm-ledger prove 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --out bundle.json')}\n\nExit code 4 when no record has that id.`)
    .action((id: string, opts: { out?: string }) =>
      withLedger(ctx.config(), async (ledger) => {
        if (!(await ledger.get(id))) throw new NotFoundError(`no record with id ${printable(id)}; find ids with 'llm-ledger search'`);
        const bundle = serializeProof(await ledger.prove(id));
        if (opts.out === undefined) {
          process.stdout.write(bundle);
          return EXIT.ok;
        }
        try {
          // A new file is its owner's only, like everything the ledger writes; an existing one keeps its mode.
          writeFileSync(opts.out, bundle, { mode: 0o600 });
        } catch (err) {
          throw new UsageError(`cannot write the bundle to ${opts.out}: ${(err as Error).message}`, { cause: err });
        }
        return EXIT.ok;
      }),
    );

  program
    .command('verify-proof <bundle>')
    .description('check a proof bundle offline, with no database')
    .option('--key <verifierKey>', "the ledger's published verifier key; without it the bundle is only checked for internal consistency")
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger verify-proof bundle.json --key "llm-ledger.local/default+1a2b3c4d+AQ..."')}\n\nExit code 1 when the bundle is not valid.`,
    )
    .action((file: string, opts: { key?: string; json?: boolean }) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new UsageError(`cannot read the bundle ${file}: ${(err as Error).message}`, { cause: err });
      }
      const result = verifyProof(bytes, opts.key === undefined ? {} : { trustedVerifierKey: opts.key });
      out(opts.json ? jsonText(result) : formatProofVerification(result));
      process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
    });
}

import type { Command } from 'commander';
import type { VerifyReport } from '../../ledger/verify.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { revealActor } from '../reveal.js';
import { printable } from '../../ledger/printable.js';

/**
 * What an operator does when a writer refuses to append because records lie beyond the log's
 * signed head: see them (the default, read-only), and, having decided they are the ledger's own
 * (written by a version before signed heads and never checkpointed, say), accept them. Accepting
 * is itself recorded, naming who and why, with the digest of the accepted leaves. Nothing else a
 * writer refuses can be accepted: a store behind its anchor or a fork needs the procedure in
 * docs/threat-model.md.
 */
export function registerRepair(program: Command, ctx: CliContext): void {
  program
    .command('repair')
    .description('show records that no signed head covers, and with --accept-unsealed take them into the log as an operator decided')
    .option('--accept-unsealed', 'take the unsealed records into the log; the decision is recorded as an unsealed_accepted event')
    .option('--reason <text>', 'why they are accepted (required with --accept-unsealed; recorded)')
    .option('--actor <name>', 'who decides (recorded; default: the OS user name)')
    .addHelpText(
      'after',
      `${examples('llm-ledger repair', "llm-ledger repair --accept-unsealed --reason 'written by 0.1 before its crash on 2026-12-01'")}\n\n` +
        'Without options nothing is written: the command runs verify and says what it found. Exit code 1 while\n' +
        'the log has problems that repair does not resolve.',
    )
    .action(async (opts: { acceptUnsealed?: boolean; reason?: string; actor?: string }) => {
      if (!opts.acceptUnsealed) {
        await withLedger(ctx.config(), async (ledger) => {
          const report = await ledger.verify();
          out(diagnosis(report));
          return report.ok ? EXIT.ok : EXIT.failed;
        });
        return;
      }
      if (!opts.reason?.trim()) throw new UsageError("--accept-unsealed needs --reason <text>: why these records are this ledger's own; it is recorded");
      const decision = { actor: revealActor(opts.actor), reason: opts.reason };
      await withLedger(
        ctx.config(),
        async (ledger) => {
          const accepted = ledger.accepted;
          const report = await ledger.verify();
          if (accepted)
            out(
              `Accepted records ${accepted.ranges.map((r) => `${r.from}..${r.to - 1}`).join(', ')} into the log; the decision is unsealed_accepted record ${accepted.recordId}.`,
            );
          else out(report.ok ? 'Every record is covered by a signed head: nothing to accept.' : 'Nothing was accepted.');
          out(report.ok ? 'verify: OK' : diagnosis(report));
          return report.ok ? EXIT.ok : EXIT.failed;
        },
        { writable: true, acceptUnsealed: decision },
      );
    });
}

function diagnosis(report: VerifyReport): string {
  if (report.ok) return `OK: all ${report.size} records are covered by signed checkpoints; nothing to repair.`;
  const unsealed = report.problems.filter((p) => p.kind === 'unsealed');
  const other = report.problems.filter((p) => p.kind !== 'unsealed');
  const lines = unsealed.map(
    (p) =>
      `${printable(p.message)}.\nIf they are this ledger's own (check them with 'llm-ledger search' or 'export'), take them in with:\n  llm-ledger repair --accept-unsealed --reason '<why>'\nIf they are not, keep the file as evidence and restore the last good backup (docs/threat-model.md, "Recovery").`,
  );
  if (other.length > 0) {
    lines.push(`repair does not resolve these (see 'llm-ledger verify' and docs/threat-model.md, "Recovery"):`);
    for (const p of other) lines.push(`  - [${p.kind}]${p.index === undefined ? '' : ` index ${p.index}:`} ${printable(p.message)}`);
  }
  return lines.join('\n');
}

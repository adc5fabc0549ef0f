import type { Command } from 'commander';
import { confirmByTyping } from '../confirm.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { printable } from '../../ledger/printable.js';

interface EraseOptions {
  user?: string;
  tenant?: string;
  yes?: boolean;
  json?: boolean;
}

export function registerErase(program: Command, ctx: CliContext): void {
  program
    .command('erase')
    .description('erase one data subject (a user, or a tenant): destroy its data keys and delete its stored content; envelopes and proofs stay valid')
    .option('--user <id>', 'the user whose content is erased')
    .option('--tenant <id>', 'the tenant whose content is erased (its records without a user)')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'print { subject, keysDestroyed, contentDeleted, erasureRecordId } as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger erase --user alice', 'llm-ledger erase --tenant acme --yes --json')}\n\n` +
        'On a terminal it asks you to type the id to confirm; in scripts pass --yes. Content of a record is sealed under its\n' +
        "user's key, else its tenant's: --tenant erases the records that name the tenant and no user. An erasure record with\n" +
        'the counts is appended to the log. A database backup taken before the erasure keeps the wrapped keys for as long as\n' +
        'the key-encryption key exists (see docs/privacy.md on retiring KEKs).',
    )
    .action(async (opts: EraseOptions) => {
      if ((opts.user === undefined) === (opts.tenant === undefined)) throw new UsageError('give exactly one of --user <id> or --tenant <id>');
      const who = opts.user !== undefined ? { user: opts.user } : { tenant: opts.tenant! };
      const [kind, id] = opts.user !== undefined ? ['user', opts.user] : ['tenant', opts.tenant!];
      if (id.trim() === '') throw new UsageError(`--${kind} must not be empty`);
      // Asked once the configuration and the ledger are known to be there, so nobody confirms for nothing.
      const confirm = async () => {
        if (opts.yes) return;
        const question = `Erase every stored prompt, response and header of ${kind} ${printable(id)}? Its data keys are destroyed, so this cannot be undone (envelopes stay).`;
        if (!(await confirmByTyping(question, id))) throw new UsageError('not confirmed; nothing was erased');
      };
      await withLedger(
        ctx.config(),
        async (ledger) => {
          const result = await ledger.erase(who);
          if (opts.json) {
            out(jsonText(result));
          } else {
            const nothing = result.keysDestroyed === 0 && result.contentDeleted === 0 ? ' (nothing was stored for it)' : '';
            out(
              `Erased ${kind} ${printable(id)}: ${result.keysDestroyed} data key(s) destroyed, ${result.contentDeleted} content item(s) deleted${nothing}.\n` +
                `Recorded as erasure record ${result.erasureRecordId}; envelopes are kept, so 'llm-ledger verify' and every proof still pass.`,
            );
          }
          return EXIT.ok;
        },
        { writable: true, beforeOpen: confirm },
      );
    });
}

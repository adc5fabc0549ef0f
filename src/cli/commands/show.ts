import type { Command } from 'commander';
import type { LoggedRecord } from '../../record/types.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, NotFoundError, UsageError } from '../exit-codes.js';
import { envelopeTable } from '../format-record.js';
import { jsonText } from '../json.js';
import { printable } from '../text.js';

/** A request normally has a handful of records (its call and gateway events); more are not shown. */
const MAX_PER_REQUEST = 1000;

export function registerShow(program: Command, ctx: CliContext): void {
  program
    .command('show [id]')
    .description('show one record\'s envelope by its id, or every record of one request with --request-id')
    .option('--request-id <id>', 'the records of this request id, in log order, instead of one record by id')
    .option('--json', 'print { index, envelope } as JSON (an array with --request-id)')
    .addHelpText(
      'after',
      `${examples('llm-ledger show 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b', 'llm-ledger show --request-id req_8f2a --json')}\n\nExit code 4 when no record has that id or request id.`,
    )
    .action((id: string | undefined, opts: { requestId?: string; json?: boolean }) =>
      withLedger(ctx.config(), async (ledger) => {
        if ((id === undefined) === (opts.requestId === undefined)) throw new UsageError('give either a record id or --request-id <id>, not both and not neither');
        let records: LoggedRecord[];
        if (id !== undefined) {
          const record = await ledger.get(id);
          if (!record) throw new NotFoundError(`no record with id ${printable(id)}; find ids with 'llm-ledger search'`);
          records = [record];
        } else {
          records = (await ledger.search({ requestId: opts.requestId!, limit: MAX_PER_REQUEST })).records.reverse();
          if (records.length === 0) throw new NotFoundError(`no record with request id ${printable(opts.requestId)}`);
        }
        if (opts.json) out(jsonText(id !== undefined ? records[0] : records));
        else out(records.map((r) => envelopeTable(r)).join('\n\n'));
        return EXIT.ok;
      }),
    );
}

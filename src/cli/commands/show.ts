import type { Command } from 'commander';
import type { LedgerReader } from '../../ledger/ledger.js';
import type { LoggedRecord } from '../../record/types.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, NotFoundError, UsageError } from '../exit-codes.js';
import { envelopeTable } from '../format-record.js';
import { jsonText } from '../json.js';
import { formatReveal, revealActor, revealRecord } from '../reveal.js';
import { printable } from '../../ledger/printable.js';

/** A request normally has a handful of records (its call and gateway events); more are not shown. */
const MAX_PER_REQUEST = 1000;

interface ShowOptions {
  requestId?: string;
  json?: boolean;
  reveal?: boolean;
  reason?: string;
  actor?: string;
}

export function registerShow(program: Command, ctx: CliContext): void {
  program
    .command('show [id]')
    .description("show one record's envelope by its id, or every record of one request with --request-id; --reveal decrypts its stored content")
    .option('--request-id <id>', 'the records of this request id, in log order, instead of one record by id')
    .option('--json', 'print { index, envelope } as JSON (an array with --request-id; with --reveal also content and accessRecordId)')
    .option('--reveal', 'also decrypt and print the prompt and response stored for this record (needs the key-encryption key); the access is recorded')
    .option('--reason <text>', 'why you are looking (required with --reveal); recorded with the access')
    .option('--actor <name>', 'who is looking, recorded with the access (default: your OS user name)')
    .addHelpText(
      'after',
      `${examples(
        'llm-ledger show 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
        'llm-ledger show --request-id req_8f2a --json',
        'llm-ledger show 019ab2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --reveal --reason "complaint #1234"',
        'LLM_LEDGER_KEK=$(cat /secure/ledger.kek) llm-ledger show 019ab2c4-... --reveal --reason "incident 77" --actor auditor-bo --json',
      )}\n\n` +
        'Every --reveal first appends a content_accessed record (who, why, which record) to the ledger, so a reveal is\n' +
        'itself on the audit trail; records captured as hash (the default) have no content to reveal.\n\n' +
        'Exit code 4 when no record has that id or request id, or it has no stored content (never stored, erased or\n' +
        'expired); 2 when the key-encryption key is missing or is not the one that sealed the content; 1 when the\n' +
        'stored ciphertext fails its integrity check.',
    )
    .action((id: string | undefined, opts: ShowOptions) => {
      if ((id === undefined) === (opts.requestId === undefined)) throw new UsageError('give either a record id or --request-id <id>, not both and not neither');
      if (!opts.reveal) {
        if (opts.reason !== undefined || opts.actor !== undefined)
          throw new UsageError('--reason and --actor go with --reveal; add --reveal to decrypt the content');
        return withLedger(ctx.config(), (ledger) => showEnvelopes(ledger, id, opts));
      }
      if (id === undefined)
        throw new UsageError("--reveal takes one record id, not --request-id; find the llm.call record's id with 'llm-ledger show --request-id <id>'");
      if (!opts.reason?.trim()) throw new UsageError('--reveal needs --reason "..." saying why you are looking; it is recorded with the access');
      const access = { actor: revealActor(opts.actor), reason: opts.reason };
      // Writable: the access itself is appended to the log before anything is decrypted.
      return withLedger(
        ctx.config(),
        async (ledger) => {
          const result = await revealRecord(ledger, id, access);
          out(
            opts.json
              ? jsonText({
                  index: result.record.index,
                  envelope: result.record.envelope,
                  content: result.content,
                  actor: access.actor,
                  accessRecordId: result.accessRecordId,
                })
              : formatReveal(result, access.actor),
          );
          return EXIT.ok;
        },
        { writable: true },
      );
    });
}

async function showEnvelopes(ledger: LedgerReader, id: string | undefined, opts: ShowOptions): Promise<number> {
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
}

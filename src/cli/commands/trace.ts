import type { Command } from 'commander';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT, NotFoundError } from '../exit-codes.js';
import { timelineTable } from '../format-record.js';
import { jsonText } from '../json.js';
import { printable } from '../../ledger/printable.js';

export function registerTrace(program: Command, ctx: CliContext): void {
  program
    .command('trace <trace-id>')
    .description("the records of one trace in log order, with the events a call's record carries in their places, as a timeline")
    .option('--json', 'print the records as a JSON array')
    .addHelpText(
      'after',
      `${examples('llm-ledger trace 4bf92f3577b34da6a3ce929d0e0e4736', 'llm-ledger trace 4bf92f3577b34da6a3ce929d0e0e4736 --json')}\n\nOFFSET is each entry's time after the first one's; an event a call's record carries shows that record's INDEX (its proof covers the event). Exit code 4 when the trace has no records.`,
    )
    .action((traceId: string, opts: { json?: boolean }) =>
      withLedger(ctx.config(), async (ledger) => {
        const records = await ledger.trace(traceId);
        if (records.length === 0) throw new NotFoundError(`no records with trace id ${printable(traceId)}`);
        if (opts.json) {
          out(jsonText(records));
          return EXIT.ok;
        }
        const span = Date.parse(records.at(-1)!.envelope.ts) - Date.parse(records[0]!.envelope.ts);
        const stored = new Set(records.map((r) => r.index)).size;
        const entries = `${records.length} entr${records.length === 1 ? 'y' : 'ies'} in ${stored} record${stored === 1 ? '' : 's'}`;
        out(`trace ${printable(traceId)}: ${entries} over ${span} ms, from ${records[0]!.envelope.ts}\n`);
        out(timelineTable(records));
        return EXIT.ok;
      }),
    );
}

import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import type { LoggedRecord } from '../../record/types.js';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { CSV_COLUMNS, CSV_HEADER, csvRow } from '../csv.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { addFilterOptions, searchFilter, type FilterOptions } from '../filters.js';
import { jsonText } from '../json.js';
import { NO_PROGRESS, progressOnTerminal } from '../progress.js';
import { printable } from '../../ledger/printable.js';

interface ExportOptions extends FilterOptions {
  format: 'jsonl' | 'csv';
  out?: string;
}

/** Records read from the ledger per step: bounded memory however large the log. */
const BATCH = 1000;

const HELP = `
Records are streamed oldest first, a batch of ${BATCH} at a time, so memory stays flat for any
number of records. A progress bar shows on stderr when it is a terminal (and stdout is not).

jsonl: one JSON object per line: {"index": <log index>, ...every envelope field}.
csv:   RFC 4180 (header row, CRLF line ends, fields with , " CR or LF quoted, quotes doubled).
       Columns: ${CSV_COLUMNS.map(([name]) => name).join(', ')}.
       Lists are joined with ';'; metadata and capture are one cell of JSON each. Text cells starting with
       = + - @ or a tab get a leading ' so a spreadsheet does not run them as formulas; use jsonl
       for the exact stored values.`;

export function registerExport(program: Command, ctx: CliContext): void {
  const command = program
    .command('export')
    .description('write matching records as JSON Lines or CSV, streaming, to a file or stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('-o, --out <file>', 'write to this file (created with mode 0600, replaced if it exists) instead of stdout');
  addFilterOptions(command).addHelpText(
    'after',
    `${examples('llm-ledger export --since 30d --out last-month.jsonl', 'llm-ledger export --format csv --user alice --out alice.csv', 'llm-ledger export --model gpt-4o | gzip > gpt-4o.jsonl.gz')}\n${HELP}`,
  );
  command.action((opts: ExportOptions) =>
    withLedger(ctx.config(), async (ledger) => {
      const sink = opts.out === undefined ? process.stdout : openOut(opts.out);
      // On a terminal, CSV cells are escaped like every other human output; files and pipes get the exact bytes.
      const toTerminal = opts.out === undefined && process.stdout.isTTY === true;
      const line =
        opts.format === 'csv' ? (r: LoggedRecord) => csvRow(r.envelope, r.index) : (r: LoggedRecord) => `${jsonText({ index: r.index, ...r.envelope }, 0)}\n`;
      // A bar between records on the same terminal would garble both.
      const progress = toTerminal ? NO_PROGRESS : progressOnTerminal('export');
      const total = await ledger.size();
      let count = 0;
      try {
        if (opts.format === 'csv') await write(sink, CSV_HEADER);
        for await (const batch of ledger.records(searchFilter(opts), BATCH)) {
          let text = batch.map(line).join('');
          if (toTerminal) text = text.split('\r\n').map(printable).join('\r\n');
          await write(sink, text);
          count += batch.length;
          progress.update(batch.at(-1)!.index + 1, total);
        }
      } catch (err) {
        // A closed pipe (`export | head`) ends the export quietly: the reader has what it wanted.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
        throw err;
      } finally {
        progress.stop();
        if (sink !== process.stdout) {
          (sink as WriteStream).end();
          await finished(sink);
        }
      }
      if (opts.out !== undefined) out(`Exported ${count} record${count === 1 ? '' : 's'} to ${printable(opts.out)} (${opts.format}).`);
      return EXIT.ok;
    }),
  );
}

/** Opens the file before the first record is read, so a bad path fails at once. */
function openOut(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
  return createWriteStream(path, { fd });
}

/** Writes with backpressure: waits for the stream to drain rather than buffering a whole export. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

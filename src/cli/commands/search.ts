import type { Command } from 'commander';
import { examples, out, withLedger, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { addFilterOptions, searchFilter, wholeNumber, type FilterOptions } from '../filters.js';
import { searchTable } from '../format-record.js';
import { jsonText } from '../json.js';
import { printable } from '../../ledger/printable.js';

interface SearchOptions extends FilterOptions {
  limit: number;
  cursor?: string;
  json?: boolean;
}

export function registerSearch(program: Command, ctx: CliContext): void {
  const command = program
    .command('search')
    .description('find records, newest first; every filter narrows the result')
    .option('-n, --limit <n>', 'at most this many records (1-1000)', wholeNumber(1, 1000), 50)
    .option('--cursor <cursor>', 'the next page: the cursor printed under the previous page')
    .option('--json', 'print { records, nextCursor } as JSON');
  addFilterOptions(command).addHelpText(
    'after',
    examples(
      'llm-ledger search --user alice --since 24h',
      'llm-ledger search --model gpt-4o --status error --since 2026-01-01 --until 2026-02-01T00:00:00Z',
      'llm-ledger search --key-prefix sk-proj- --limit 100 --json',
    ),
  );
  command.action((opts: SearchOptions) =>
    withLedger(ctx.config(), async (ledger) => {
      const result = await ledger.search({ ...searchFilter(opts), limit: opts.limit, ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }) });
      if (opts.json) {
        out(jsonText(result));
        return EXIT.ok;
      }
      if (result.records.length === 0) {
        out(opts.cursor === undefined ? 'No records match.' : 'No more records match.');
        return EXIT.ok;
      }
      out(searchTable(result.records));
      if (result.nextCursor) out(`\nMore records may match: add --cursor ${printable(result.nextCursor)} for the next page.`);
      return EXIT.ok;
    }),
  );
}

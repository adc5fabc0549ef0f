import { vi } from 'vitest';
import { CSV_HEADER, csvRow } from '../../cli/csv.js';
import { jsonText } from '../../cli/json.js';
import type { Ledger } from '../../ledger/ledger.js';

export { filesContaining } from './harness.js';

/** What was printed while a capture was on. */
export interface Printed {
  /** Everything written to stdout and stderr, and every console call, in order. */
  text(): string;
  restore(): void;
}

/**
 * Records everything the process prints (stdout, stderr, console) from now on, still letting it
 * through, so a test can search it for planted text.
 */
export function capturePrinted(): Printed {
  const seen: string[] = [];
  const spies = [
    ...(['stdout', 'stderr'] as const).map((name) => {
      const stream = process[name];
      const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
      return vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        seen.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return write(chunk, ...rest);
      }) as typeof stream.write);
    }),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((name) => {
      const original = console[name].bind(console);
      return vi.spyOn(console, name).mockImplementation((...args: unknown[]) => {
        seen.push(args.map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message}` : String(arg))).join(' '));
        original(...args);
      });
    }),
  ];
  return {
    text: () => seen.join('\n'),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/**
 * The ledger as an auditor reads it: `search --json` (every record, newest first), and `export`
 * in JSON Lines and CSV, built with the CLI's own formatters.
 */
export async function auditorViews(ledger: Ledger): Promise<string> {
  const views: string[] = [jsonText(await ledger.search({ limit: 1000 })), CSV_HEADER];
  for await (const batch of ledger.records({})) {
    for (const record of batch) views.push(`${jsonText({ index: record.index, ...record.envelope }, 0)}\n`, csvRow(record.envelope, record.index));
  }
  return views.join('');
}

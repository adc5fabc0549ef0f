import { openLedger } from '../ledger/open-ledger.js';
import type { Ledger } from '../ledger/ledger.js';

/** What every command gets from the program: the global `--config`, read when the command runs. */
export interface CliContext {
  config(): string | undefined;
}

export const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** Opens the configured ledger, runs one command on it, sets the exit code and always closes it. */
export async function withLedger(config: string | undefined, run: (ledger: Ledger) => Promise<number>): Promise<void> {
  const ledger = await openLedger(config, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  try {
    process.exitCode = await run(ledger);
  } finally {
    await ledger.close();
  }
}

/** Help text listing examples, the same shape on every command. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

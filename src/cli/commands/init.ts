import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME } from '../../config/load.js';
import { examples, out, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { initTemplate } from '../init-template.js';

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init [file]')
    .description(`write a commented configuration file with every default and every section explained (default: ./${CONFIG_FILE_NAME}, or --config)`)
    .option('-f, --force', 'overwrite the file if it exists')
    .addHelpText(
      'after',
      `${examples('llm-ledger init', 'llm-ledger init /etc/llm-ledger/llm-ledger.yaml', 'llm-ledger init --force')}\n\nExit code 2 when the file exists and --force was not given.`,
    )
    .action((file: string | undefined, opts: { force?: boolean }) => {
      const path = resolve(file ?? ctx.config() ?? CONFIG_FILE_NAME);
      try {
        writeFileSync(path, initTemplate(), { flag: opts.force ? 'w' : 'wx' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new UsageError(`${path} already exists; edit it, or add --force to replace it with the commented defaults`);
        throw new UsageError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
      }
      out(
        [
          `Wrote ${path}: every setting at its default, with comments.`,
          'Next: set log.anchor.path (without an outside anchor a truncated log cannot be detected), then',
          `  llm-ledger${file === undefined && ctx.config() === undefined ? '' : ` --config ${path}`} serve     # or record through the library or SDK wrappers`,
        ].join('\n'),
      );
      process.exitCode = EXIT.ok;
    });
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { verifierKeyOf } from '../../log/checkpoint.js';
import { examples, LedgerUnavailableError, out, withLedger, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { jsonText } from '../json.js';
import { configFileFor, currentKeks, rotatedKekPath, updateConfigForRotation, writeNewKek } from '../kek-rotation.js';

const DEFAULT_KEK_FILE = 'llm-ledger.kek';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description("create and rotate the key-encryption key (KEK) that wraps the per-subject keys sealing stored content; print the log's public verifier key")
    .addHelpText(
      'after',
      examples('llm-ledger keys generate --out /secure/llm-ledger.kek', 'llm-ledger keys rotate', 'llm-ledger keys rewrap', 'llm-ledger keys verifier'),
    );

  keys
    .command('generate')
    .description('write a new random 32-byte key-encryption key to a file with mode 0600 (the key itself is never printed)')
    .option('-o, --out <file>', 'where to write it (never overwritten)', DEFAULT_KEK_FILE)
    .option('--json', 'print { path, kekId } as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger keys generate', 'llm-ledger keys generate --out /secure/llm-ledger.kek --json')}\n\n` +
        'Then point encryption.kek_file at it, or pass its contents in LLM_LEDGER_KEK and remove the file. Back it up apart\n' +
        'from the database: without it no encrypted content can be read again. Exit code 2 when the file already exists.',
    )
    .action((opts: { out: string; json?: boolean }) => {
      const path = resolve(opts.out);
      const kek = writeNewKek(path);
      if (opts.json) {
        out(jsonText({ path, kekId: kek.id }));
        return;
      }
      out(
        [
          `Wrote a new key-encryption key to ${path} (mode 0600, key id ${kek.id}).`,
          'Use it by adding this to llm-ledger.yaml:',
          '  encryption:',
          `    kek_file: ${path}`,
          `or pass it in the environment instead of the file: export LLM_LEDGER_KEK="$(cat ${path})" (then remove the file).`,
          'Back it up apart from the database: without it, no content encrypted under it can be read again.',
        ].join('\n'),
      );
    });

  keys
    .command('rotate')
    .description('make a new key-encryption key current and keep the old one for older content; updates the config file when it names the key file')
    .option('-o, --out <file>', 'where to write the new key (default: beside the current key file, named by the UTC time)')
    .option('--no-update-config', 'only write the new key and print the configuration change to make')
    .option('--json', 'print { newKekFile, newKekId, previousKekId, configUpdated, instructions } as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger keys rotate', 'llm-ledger --config /etc/llm-ledger.yaml keys rotate --out /secure/kek-2027.kek')}\n\n` +
        'New data keys are wrapped by the new KEK; data keys made before stay wrapped by the old one, which moves to\n' +
        'encryption.previous_kek_files, so all earlier content stays readable. Keep the old key file. When the config file\n' +
        'sets encryption.kek_file to a plain path, it is updated in place (comments kept; checked before it is replaced);\n' +
        'otherwise (the key comes from LLM_LEDGER_KEK, or the path from ${VARIABLE}) the change to make is printed.\n' +
        'Restart processes that have the ledger open (llm-ledger serve) to use the new key.',
    )
    .action((opts: { out?: string; updateConfig: boolean; json?: boolean }) => {
      const config = ctx.config();
      const cfg = loadConfig(config === undefined ? {} : { path: config });
      const file = configFileFor(config);
      const { current } = currentKeks(cfg);
      const newPath = resolve(opts.out ?? rotatedKekPath(current.source === 'file' ? dirname(current.path) : file.exists ? dirname(file.path) : process.cwd()));
      const fresh = writeNewKek(newPath);

      let configUpdated = false;
      let why = '';
      if (current.source === 'env') why = `the current key comes from ${current.variable}, not a file`;
      else if (!opts.updateConfig) why = '--no-update-config was given';
      else if (!file.exists) why = `there is no config file (${file.path})`;
      else {
        const result = updateConfigForRotation(file.path, newPath);
        configUpdated = result.updated;
        if (!result.updated) why = result.why;
      }

      const instructions = configUpdated ? [] : rotationSteps(current, newPath);
      if (opts.json) {
        out(
          jsonText({
            newKekFile: newPath,
            newKekId: fresh.id,
            previousKekId: current.kek.id,
            configUpdated,
            ...(configUpdated ? { configFile: file.path } : { why, instructions }),
          }),
        );
        return;
      }
      const lines = [`Wrote the new key-encryption key to ${newPath} (mode 0600, key id ${fresh.id}); the previous key is ${current.kek.id}.`];
      if (configUpdated) {
        lines.push(
          `Updated ${file.path}: encryption.kek_file is the new key, and the previous key file was added to encryption.previous_kek_files.`,
          'Keep the previous key file: every data key made before now is still wrapped by it.',
        );
      } else {
        lines.push(`The config file was not changed (${why}). To finish the rotation:`, ...instructions.map((s, i) => `  ${i + 1}. ${s}`));
      }
      lines.push('Restart processes that have the ledger open (llm-ledger serve) to start using the new key.');
      out(lines.join('\n'));
      process.exitCode = EXIT.ok;
    });

  registerRewrap(keys, ctx);
  registerVerifier(keys, ctx);
}

/** The public half of the checkpoint signing key: what auditors and `verify-proof --key` need. */
function registerVerifier(keys: Command, ctx: CliContext): void {
  keys
    .command('verifier')
    .description("print the ledger's verifier key: the public key that checks its signed checkpoints (the signing key itself is never printed)")
    .option('--json', 'print { verifierKey, origin, signingKeyFile } as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger keys verifier', 'llm-ledger verify-proof bundle.json --key "$(llm-ledger keys verifier)"')}\n\n` +
        'Publish it where auditors find it. An auditor who sets log.verifier_key (or LLM_LEDGER_VERIFIER_KEY) to it can run\n' +
        'search, show, trace, stats, verify and prove without the signing key, which only the processes that record need.\n' +
        'Exit code 3 when the signing key file does not exist.',
    )
    .action((opts: { json?: boolean }) => {
      const config = ctx.config();
      const cfg = loadConfig(config === undefined ? {} : { path: config });
      const signingKeyFile = cfg.log.signingKeyFile;
      if (!existsSync(signingKeyFile)) {
        throw new LedgerUnavailableError(
          `the signing key ${signingKeyFile} (log.signing_key_file) does not exist; run this where the ledger is recorded, or pass --config with its llm-ledger.yaml (the key is created by the first record)`,
        );
      }
      const verifierKey = verifierKeyOf(readFileSync(signingKeyFile, 'utf8').trim());
      if (cfg.log.verifierKey !== undefined && cfg.log.verifierKey !== verifierKey) {
        process.stderr.write(`warning: log.verifier_key in the configuration is not this signing key's verifier key; one of them belongs to another ledger\n`);
      }
      out(opts.json ? jsonText({ verifierKey, origin: cfg.log.origin, signingKeyFile }) : verifierKey);
    });
}

/** The last step of a rotation: every data key moves to the current KEK, so the previous ones can go. */
function registerRewrap(keys: Command, ctx: CliContext): void {
  keys
    .command('rewrap')
    .description('wrap every stored data key with the current key-encryption key, so the previous ones can be retired')
    .option('--json', 'print { subjects, rewrapped, kekId, recordId } as JSON')
    .addHelpText(
      'after',
      `${examples('llm-ledger keys rewrap', 'llm-ledger --config /etc/llm-ledger.yaml keys rewrap --json')}\n\n` +
        'Run it after keys rotate, with encryption.previous_kek_files still listing the old keys: they are needed to unwrap.\n' +
        'Content is not rewritten (only the small wrapped data keys are), and the run is stated in the log as a keys_rewrapped\n' +
        'event. Afterwards remove the old files from previous_kek_files, then destroy them. Safe to run again.',
    )
    .action((opts: { json?: boolean }) =>
      withLedger(
        ctx.config(),
        async (ledger) => {
          const result = await ledger.rewrapKeys();
          if (opts.json) out(jsonText(result));
          else {
            out(
              [
                `Rewrapped ${result.rewrapped} data key(s) of ${result.subjects} subject(s) with key-encryption key ${result.kekId} (stated in record ${result.recordId}).`,
                'No stored data key needs the previous keys now: remove them from encryption.previous_kek_files, then destroy the files.',
              ].join('\n'),
            );
          }
          return EXIT.ok;
        },
        { writable: true },
      ),
    );
}

/** What the user must change by hand, when the config file could not safely be updated. */
function rotationSteps(current: ReturnType<typeof currentKeks>['current'], newPath: string): string[] {
  if (current.source === 'env') {
    return [
      `save the current key to a file only you can read: (umask 077; printf '%s\\n' "$${current.variable}" > previous.kek)`,
      'in llm-ledger.yaml, under encryption, add that file to previous_kek_files (keep any already listed, oldest first)',
      `set encryption.kek_file: ${newPath} (or put its contents in ${current.variable} and keep kek_file unset)`,
    ];
  }
  return [
    `in llm-ledger.yaml, under encryption, set kek_file: ${newPath}`,
    `and append ${current.path} to previous_kek_files (oldest first; keep any already listed)`,
  ];
}

import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { LedgerConfig } from '../config/schema.js';
import { openLedger } from '../ledger/open-ledger.js';
import type { Ledger, LedgerReader } from '../ledger/ledger.js';

/** What every command gets from the program: the global `--config`, read when the command runs. */
export interface CliContext {
  config(): string | undefined;
}

export const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

export interface WithLedgerOptions {
  /**
   * Opens for writing: the tree is rebuilt from every leaf hash (seconds on a large ledger) so
   * records can be appended. Only commands that append (reveal, erase, cleanup, demo) ask for it;
   * every query opens read-only, which is fast at any size and cannot change the log.
   */
  writable?: boolean;
  /** Creates the ledger (and its keys) when there is none yet; only the demo does. */
  create?: boolean;
  /** Runs once the configuration is loaded and checked, before the ledger is opened (a confirmation prompt, say). */
  beforeOpen?: (cfg: LedgerConfig) => Promise<void>;
  /** With `writable`: takes records no signed head covers into the log (`llm-ledger repair`). */
  acceptUnsealed?: { actor: string; reason: string };
}

/**
 * Loads the configuration, opens the ledger, runs one command on it, sets the exit code and
 * always closes it. Read-only unless `writable` is asked for: `run` then gets a `LedgerReader`.
 */
export function withLedger(
  config: string | undefined,
  run: (ledger: Ledger, cfg: LedgerConfig) => Promise<number>,
  options: WithLedgerOptions & { writable: true },
): Promise<void>;
export function withLedger(
  config: string | undefined,
  run: (ledger: LedgerReader, cfg: LedgerConfig) => Promise<number>,
  options?: WithLedgerOptions & { writable?: false },
): Promise<void>;
export async function withLedger(
  config: string | undefined,
  run: (ledger: Ledger, cfg: LedgerConfig) => Promise<number>,
  options: WithLedgerOptions = {},
): Promise<void> {
  const cfg = loadConfig(config === undefined ? {} : { path: config });
  if (!options.create) requireExistingLedger(cfg, options.writable === true);
  await options.beforeOpen?.(cfg);
  const onWarning = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const ledger = options.writable
    ? await openLedger(cfg, { onWarning, ...(options.acceptUnsealed ? { acceptUnsealed: options.acceptUnsealed } : {}) })
    : await openLedger(cfg, { readOnly: true, onWarning });
  try {
    // A reader only when opened read-only, and then the overload's `run` takes a reader.
    process.exitCode = await run(ledger as Ledger, cfg);
  } finally {
    await ledger.close();
  }
}

/** The ledger could not be found or opened: exit code 3. */
export class LedgerUnavailableError extends Error {
  override readonly name = 'LedgerUnavailableError';
}

/**
 * A command run in the wrong directory, or with a mistyped path, would otherwise create an empty
 * ledger (and fresh key files) there and report "no records" (or record an erasure in it): it
 * fails and says where it looked.
 */
function requireExistingLedger(cfg: LedgerConfig, writable: boolean): void {
  const { type, path } = cfg.store;
  if ((type === 'sqlite' || type === 'jsonl') && !existsSync(path)) {
    throw new LedgerUnavailableError(
      `no ledger at ${path} (store.path): run the command where its llm-ledger.yaml is, or pass --config <file> (or set LLM_LEDGER_STORE_PATH); a ledger is created by the first record, e.g. through 'llm-ledger serve'`,
    );
  }
  // The checkpoints are checked against this key (or the configured verifier key, for reading). A
  // missing one would be created afresh, and every checkpoint would then look forged: refuse
  // instead of raising a false alarm.
  if ((writable || cfg.log.verifierKey === undefined) && !existsSync(cfg.log.signingKeyFile)) {
    const readInstead = writable
      ? ''
      : "; or, to read and verify without the signing key, set log.verifier_key (or LLM_LEDGER_VERIFIER_KEY) to the ledger's published verifier key";
    throw new LedgerUnavailableError(
      `the ledger's signing key ${cfg.log.signingKeyFile} (log.signing_key_file) does not exist; without it the checkpoints cannot be ${writable ? 'signed' : 'checked'}. Point log.signing_key_file (or LLM_LEDGER_SIGNING_KEY_FILE) at the key this ledger was written with${readInstead}`,
    );
  }
}

/** Help text listing examples, the same shape on every command. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

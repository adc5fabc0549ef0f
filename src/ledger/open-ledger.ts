import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { LedgerConfig } from '../config/schema.js';
import { compileCapturePolicy } from '../capture/policy.js';
import { ContentCipher } from '../crypto/content-cipher.js';
import { Digester } from '../crypto/digest.js';
import { kekFromEnv, kekFromFile, KekRing } from '../crypto/kek.js';
import { decodeKeyMaterial, readOrCreateSecretFile } from '../crypto/key-files.js';
import { openFileAnchor } from '../log/anchor.js';
import { generateSignerKey, verifierKeyOf } from '../log/checkpoint.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { LedgerError } from './errors.js';
import { Ledger, type LedgerReader } from './ledger.js';
import { Spool } from './spool.js';

export interface OpenLedgerOptions {
  /** Overrides for tests and embedders that manage keys themselves. */
  signerKey?: string;
  digestKey?: Buffer;
  onWarning?: (message: string) => void;
  /** Where the key-encryption key variable is read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Clean up under the configured retention at open and then on its interval: for long-running processes. */
  scheduleCleanup?: boolean;
  /** Queries, verification and proofs only: opens without rebuilding the tree; `record` is refused. */
  readOnly?: boolean;
  /** A spool file for records the store cannot take, replayed in order when it returns (see `Spool`). */
  spoolFile?: string;
  /** How often a failing store is tried again (default 1000 ms). */
  retryIntervalMs?: number;
  /** Wraps the opened store (instrumentation, or failure injection in tests). */
  wrapStore?: (store: Store) => Store;
  /** Takes records no signed head covers into the log, as an operator decided (see LedgerParts.acceptUnsealed). */
  acceptUnsealed?: { actor: string; reason: string };
}

/**
 * Opens a ledger from configuration: a loaded config object, a path to `llm-ledger.yaml`, or
 * nothing (then `./llm-ledger.yaml` if present, else the defaults: SQLite in the working
 * directory, hash-only capture). Keys are created on first use.
 *
 * Opened with `readOnly: true` (or a `readOnly` only known at run time), it is typed as a
 * `LedgerReader`, which has no `record`: a read-only ledger refuses appends.
 */
export function openLedger(config: LedgerConfig | string | undefined, options: OpenLedgerOptions & { readOnly: true }): Promise<LedgerReader>;
export function openLedger(config?: LedgerConfig | string, options?: OpenLedgerOptions & { readOnly?: false }): Promise<Ledger>;
export function openLedger(config?: LedgerConfig | string, options?: OpenLedgerOptions): Promise<LedgerReader>;
export async function openLedger(config?: LedgerConfig | string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const loaded = typeof config === 'object' ? config : loadConfig(config === undefined ? {} : { path: config });
  const readOnly = options.readOnly === true;
  // A read-only ledger never captures: its capture section is set aside, so someone who may read
  // envelopes but holds no key-encryption key can open a ledger configured for encrypted capture,
  // no digest key is read (or created), and no start-up warning about plaintext is repeated.
  const cfg = readOnly
    ? { ...loaded, capture: { ...loaded.capture, prompts: 'hash', responses: 'hash', headers: 'none', allowPlaintext: false } as const }
    : loaded;
  const keys = checkpointKeys(cfg, readOnly, options.signerKey);
  const digester = cfg.digest.algorithm === 'sha256' || readOnly ? new Digester('sha256') : new Digester('hmac-sha256', options.digestKey ?? digestKey(cfg));
  const capture = compileCapturePolicy(cfg.capture, { digester });
  const storesContent = (['prompts', 'responses', 'headers'] as const).filter((c) => cfg.capture[c] === 'encrypted' || cfg.capture[c] === 'plaintext');
  if (storesContent.length > 0 && cfg.store.type === 'jsonl') {
    throw new LedgerError(
      `capture.${storesContent[0]} is ${cfg.capture[storesContent[0]!]}, but the jsonl store cannot keep content: use store.type: sqlite, or capture hash`,
    );
  }
  const keks = readOnly ? undefined : keyEncryptionKeys(cfg, options.env ?? process.env);
  const encrypts = (['prompts', 'responses', 'headers'] as const).find((c) => cfg.capture[c] === 'encrypted');
  if (encrypts && !keks) {
    throw new LedgerError(
      `capture.${encrypts} is encrypted, but no key-encryption key is configured: set ${cfg.encryption.kekEnv} (hex or base64, 32 bytes or more) or encryption.kek_file; create one with: llm-ledger keys generate`,
    );
  }
  const opened = openStore(cfg.store);
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const spool =
    options.spoolFile !== undefined && !options.readOnly
      ? await Spool.open(options.spoolFile).catch(async (err: Error) => {
          await store.close();
          throw new LedgerError(`cannot open the spool ${options.spoolFile}: ${err.message}`, { cause: err });
        })
      : undefined;
  for (const warning of capture.warnings) (options.onWarning ?? ((m: string) => process.emitWarning(m, 'LlmLedgerWarning')))(warning);
  try {
    return await Ledger.create({
      store,
      ...keys,
      origin: cfg.log.origin,
      capture,
      ...(keks && store.content ? { cipher: new ContentCipher({ keks, store: store.content.dataKeys }) } : {}),
      ...(cfg.log.anchor ? { anchor: openFileAnchor(cfg.log.anchor.path) } : {}),
      limits: cfg.limits,
      writer: { maxBatch: cfg.writer.maxBatch, maxWaitMs: cfg.writer.maxWaitMs, checkpointIntervalMs: cfg.log.checkpointIntervalMs },
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(options.readOnly ? { readOnly: true } : {}),
      retention: cfg.retention,
      ...(options.scheduleCleanup ? { scheduleCleanup: true } : {}),
      ...(spool ? { spool } : {}),
      ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
      ...(options.acceptUnsealed ? { acceptUnsealed: options.acceptUnsealed } : {}),
    });
  } catch (err) {
    await spool?.close();
    await store.close();
    throw err;
  }
}

/**
 * The key-encryption keys: the current one from `encryption.kek_file` or the environment
 * variable, after any previous ones (which only unwrap older data keys). None configured: undefined.
 */
function keyEncryptionKeys(cfg: LedgerConfig, env: NodeJS.ProcessEnv): KekRing | undefined {
  const { kekFile, kekEnv, previousKekFiles } = cfg.encryption;
  const hasEnv = env[kekEnv] !== undefined && env[kekEnv]!.trim() !== '';
  if (kekFile === undefined && !hasEnv) return undefined;
  try {
    const current = kekFile !== undefined ? kekFromFile(kekFile) : kekFromEnv(env, kekEnv);
    return new KekRing([...previousKekFiles.map(kekFromFile), current]);
  } catch (err) {
    throw new LedgerError(`cannot load the key-encryption key: ${(err as Error).message}`, { cause: err });
  }
}

function digestKey(cfg: LedgerConfig): Buffer {
  if (cfg.digest.key !== undefined) return decodeKeyMaterial(cfg.digest.key, 'LLM_LEDGER_DIGEST_KEY');
  return decodeKeyMaterial(
    readOrCreateSecretFile(cfg.digest.keyFile, () => randomBytes(32).toString('hex')),
    `digest key file ${cfg.digest.keyFile}`,
  );
}

/**
 * The keys of the checkpoints. A read-only open needs only the public verifier key: from
 * `log.verifier_key` when set (so auditors never hold the signing key), else derived from the
 * signing key, which it must not create when missing, or every stored checkpoint would look
 * forged. A writable open signs, so it reads (or on first use creates) the signing key, which must
 * match a configured verifier key.
 */
function checkpointKeys(cfg: LedgerConfig, readOnly: boolean, givenSignerKey: string | undefined): { signerKey: string } | { verifierKey: string } {
  const { verifierKey, signingKeyFile } = cfg.log;
  if (readOnly && givenSignerKey === undefined && verifierKey !== undefined) return { verifierKey };
  if (readOnly && givenSignerKey === undefined && !existsSync(signingKeyFile)) {
    throw new LedgerError(
      `the ledger's signing key ${signingKeyFile} (log.signing_key_file) does not exist; without it the checkpoints cannot be checked: point log.signing_key_file at the key this ledger was written with, or set log.verifier_key to the ledger's published verifier key`,
    );
  }
  const signerKey =
    givenSignerKey ??
    (readOnly ? readFileSync(signingKeyFile, 'utf8').trim() : readOrCreateSecretFile(signingKeyFile, () => generateSignerKey(keyName(cfg.log.origin))));
  if (verifierKey !== undefined && verifierKeyOf(signerKey) !== verifierKey) {
    throw new LedgerError(
      `log.verifier_key is not the verifier key of the signing key ${signingKeyFile} (log.signing_key_file): one of them belongs to another ledger; 'llm-ledger keys verifier' prints the signing key's verifier key`,
    );
  }
  return { signerKey };
}

/** Signed-note key names may not hold spaces or '+'; the origin usually qualifies as is. */
function keyName(origin: string): string {
  return origin.replace(/[\s+]/g, '_');
}

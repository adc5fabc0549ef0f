import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import type { LedgerConfig } from '../config/schema.js';
import { Digester } from '../crypto/digest.js';
import { decodeKeyMaterial, readOrCreateSecretFile } from '../crypto/key-files.js';
import { openFileAnchor } from '../log/anchor.js';
import { generateSignerKey } from '../log/checkpoint.js';
import { openStore } from '../store/open-store.js';
import { Ledger } from './ledger.js';

export interface OpenLedgerOptions {
  /** Overrides for tests and embedders that manage keys themselves. */
  signerKey?: string;
  digestKey?: Buffer;
  onWarning?: (message: string) => void;
}

/**
 * Opens a ledger from configuration: a loaded config object, a path to `llm-ledger.yaml`, or
 * nothing (then `./llm-ledger.yaml` if present, else the defaults: SQLite in the working
 * directory, hash-only capture). Keys are created on first use.
 */
export async function openLedger(config?: LedgerConfig | string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const cfg = typeof config === 'object' ? config : loadConfig(config === undefined ? {} : { path: config });
  const signerKey = options.signerKey ?? readOrCreateSecretFile(cfg.log.signingKeyFile, () => generateSignerKey(keyName(cfg.log.origin)));
  const digester =
    cfg.digest.algorithm === 'sha256'
      ? new Digester('sha256')
      : new Digester('hmac-sha256', options.digestKey ?? digestKey(cfg));
  const store = openStore(cfg.store);
  try {
    return await Ledger.create({
      store,
      signerKey,
      origin: cfg.log.origin,
      digester,
      ...(cfg.log.anchor ? { anchor: openFileAnchor(cfg.log.anchor.path) } : {}),
      limits: cfg.limits,
      writer: { maxBatch: cfg.writer.maxBatch, maxWaitMs: cfg.writer.maxWaitMs, checkpointIntervalMs: cfg.log.checkpointIntervalMs },
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
}

function digestKey(cfg: LedgerConfig): Buffer {
  if (cfg.digest.key !== undefined) return decodeKeyMaterial(cfg.digest.key, 'LLM_LEDGER_DIGEST_KEY');
  return decodeKeyMaterial(readOrCreateSecretFile(cfg.digest.keyFile, () => randomBytes(32).toString('hex')), `digest key file ${cfg.digest.keyFile}`);
}

/** Signed-note key names may not hold spaces or '+'; the origin usually qualifies as is. */
function keyName(origin: string): string {
  return origin.replace(/[\s+]/g, '_');
}

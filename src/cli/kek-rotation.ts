import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isScalar, isSeq, parseDocument } from 'yaml';
import { CONFIG_FILE_NAME, parseConfig } from '../config/load.js';
import type { LedgerConfig } from '../config/schema.js';
import { generateKekFile, kekFromEnv, kekFromFile, KekRing, type KeyEncryptionKey } from '../crypto/kek.js';
import { UsageError } from './exit-codes.js';

/** The configuration file `loadConfig` reads for this `--config`, and whether it exists. */
export function configFileFor(config: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; exists: boolean } {
  const named = config ?? (env.LLM_LEDGER_CONFIG === '' ? undefined : env.LLM_LEDGER_CONFIG);
  const path = resolve(named ?? CONFIG_FILE_NAME);
  return { path, exists: existsSync(path) };
}

/** Writes a new KEK file, turning "already exists" into a usage error that says what to do. */
export function writeNewKek(path: string): KeyEncryptionKey {
  try {
    return generateKekFile(path);
  } catch (err) {
    if (/already exists/.test((err as Error).message)) {
      throw new UsageError(`${(err as Error).message}: a key file is never replaced (content sealed under it would be lost); choose another path with --out`);
    }
    throw new UsageError(`cannot write the key file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where the current key-encryption key comes from. */
export type CurrentKek = { source: 'file'; path: string; kek: KeyEncryptionKey } | { source: 'env'; variable: string; kek: KeyEncryptionKey };

/** The current KEK and the previous ones, each loaded, so a rotation never starts from a broken setup. */
export function currentKeks(cfg: LedgerConfig, env: NodeJS.ProcessEnv = process.env): { current: CurrentKek; previous: KeyEncryptionKey[] } {
  const { kekFile, kekEnv, previousKekFiles } = cfg.encryption;
  let current: CurrentKek;
  try {
    if (kekFile !== undefined) current = { source: 'file', path: kekFile, kek: kekFromFile(kekFile) };
    else if (env[kekEnv]?.trim()) current = { source: 'env', variable: kekEnv, kek: kekFromEnv(env, kekEnv) };
    else
      throw new UsageError(
        `no key-encryption key is configured (neither encryption.kek_file nor ${kekEnv}), so there is nothing to rotate; create one with: llm-ledger keys generate`,
      );
    const previous = previousKekFiles.map(kekFromFile);
    new KekRing([...previous, current.kek]);
    return { current, previous };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot load the configured key-encryption keys, so the rotation was not started: ${(err as Error).message}`, { cause: err });
  }
}

/** A fresh key file name beside `dir`, stamped with the UTC time so rotations sort in order. */
export function rotatedKekPath(dir: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(dir, `llm-ledger-${stamp}.kek`);
}

/** How a path is written into the config file: relative to its directory when inside it, else absolute. */
function asWritten(configPath: string, file: string): string {
  const rel = relative(dirname(configPath), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? `.${sep}${rel}` : file;
}

/**
 * Points the config file's `encryption.kek_file` at the new key and appends the old one to
 * `encryption.previous_kek_files`, keeping comments and layout. Only done when the file itself
 * names the current key as a plain path (not `${VARIABLE}`); the result is validated (and every
 * key in it loaded) before the file is replaced atomically, with its mode kept. Returns the
 * reason when it cannot be done safely; the caller then prints instructions instead.
 */
export function updateConfigForRotation(
  configPath: string,
  newKekFile: string,
  env: NodeJS.ProcessEnv = process.env,
): { updated: true } | { updated: false; why: string } {
  const text = readFileSync(configPath, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { updated: false, why: `${configPath} does not parse as YAML` };
  const kekNode = doc.getIn(['encryption', 'kek_file'], true);
  if (!isScalar(kekNode) || typeof kekNode.value !== 'string') return { updated: false, why: `${configPath} does not set encryption.kek_file itself` };
  const oldWritten = kekNode.value;
  if (oldWritten.includes('${')) return { updated: false, why: `encryption.kek_file in ${configPath} is taken from the environment (${oldWritten})` };

  const previous = doc.getIn(['encryption', 'previous_kek_files'], true);
  if (isSeq(previous)) previous.add(doc.createNode(oldWritten));
  else if (previous === undefined || (isScalar(previous) && previous.value === null))
    doc.setIn(['encryption', 'previous_kek_files'], doc.createNode([oldWritten]));
  else return { updated: false, why: `encryption.previous_kek_files in ${configPath} is not a list` };
  kekNode.value = asWritten(configPath, newKekFile);
  const updated = String(doc);

  // The new text must mean exactly the intended keys, and every one of them must load.
  try {
    const parsed = parseConfig(updated, { env, baseDir: dirname(configPath), source: configPath });
    if (parsed.encryption.kekFile !== resolve(newKekFile)) return { updated: false, why: 'the updated file would not name the new key' };
    new KekRing([...parsed.encryption.previousKekFiles.map(kekFromFile), kekFromFile(parsed.encryption.kekFile)]);
  } catch (err) {
    return { updated: false, why: `the updated file would not load: ${(err as Error).message}` };
  }

  const temp = join(dirname(configPath), `.${basename(configPath)}.${process.pid}.tmp`);
  writeFileSync(temp, updated, { mode: statSync(configPath).mode & 0o777, flag: 'wx' });
  renameSync(temp, configPath);
  return { updated: true };
}

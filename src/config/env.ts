import { resolve } from 'node:path';
import { decodeKeyMaterial } from '../crypto/key-files.js';
import type { ConfigIssue } from './errors.js';

export interface EnvVariable {
  name: string;
  /** The dotted YAML setting it overrides, or what it does when it is not a setting. */
  setting: string;
  description: string;
}

/** Every environment variable the loader reads; docs/configuration.md lists them. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'LLM_LEDGER_CONFIG', setting: '(config file)', description: 'Path to the YAML file, used when no path is passed. It must exist.' },
  { name: 'LLM_LEDGER_STORE', setting: 'store.type', description: 'Store driver: sqlite, jsonl, memory or postgres.' },
  { name: 'LLM_LEDGER_STORE_PATH', setting: 'store.path', description: 'SQLite database file, or JSON Lines directory.' },
  { name: 'LLM_LEDGER_STORE_URL', setting: 'store.url', description: 'PostgreSQL connection URL (the password, if in it, is never printed).' },
  { name: 'LLM_LEDGER_SIGNING_KEY_FILE', setting: 'log.signing_key_file', description: 'Ed25519 checkpoint signing key, created on first use.' },
  {
    name: 'LLM_LEDGER_VERIFIER_KEY',
    setting: 'log.verifier_key',
    description: "The ledger's public verifier key: read-only commands check checkpoints with it, no signing key needed.",
  },
  { name: 'LLM_LEDGER_ANCHOR', setting: 'log.anchor.path', description: 'Directory or file outside the database that receives every checkpoint.' },
  { name: 'LLM_LEDGER_ORIGIN', setting: 'log.origin', description: 'Origin line of signed checkpoints.' },
  {
    name: 'LLM_LEDGER_DIGEST_KEY',
    setting: 'digest.key_file',
    description: 'Digest key itself (hex or base64, at least 32 bytes); replaces the key file. Never printed.',
  },
];

/** Overrides that set a value in the document, by YAML path; paths among them resolve against cwd. */
const DOCUMENT_OVERRIDES: { name: string; path: string[]; isPath: boolean }[] = [
  { name: 'LLM_LEDGER_STORE', path: ['store', 'type'], isPath: false },
  { name: 'LLM_LEDGER_STORE_PATH', path: ['store', 'path'], isPath: true },
  { name: 'LLM_LEDGER_STORE_URL', path: ['store', 'url'], isPath: false },
  { name: 'LLM_LEDGER_SIGNING_KEY_FILE', path: ['log', 'signing_key_file'], isPath: true },
  { name: 'LLM_LEDGER_VERIFIER_KEY', path: ['log', 'verifier_key'], isPath: false },
  { name: 'LLM_LEDGER_ANCHOR', path: ['log', 'anchor', 'path'], isPath: true },
  { name: 'LLM_LEDGER_ORIGIN', path: ['log', 'origin'], isPath: false },
];

/** An empty variable counts as unset, as with most tools that read `KEY=` lines from env files. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export interface AppliedOverrides {
  /** Which variable set each overridden path (dotted, YAML spelling), to name it in errors. */
  sources: Map<string, string>;
}

/**
 * Writes environment overrides into the parsed YAML value, before validation, so an override is
 * checked exactly like the same value in the file. A path given in the environment is relative
 * to the working directory, where the user typed it, not to the config file.
 */
export function applyEnvOverrides(document: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd: string): AppliedOverrides {
  const sources = new Map<string, string>();
  for (const { name, path, isPath } of DOCUMENT_OVERRIDES) {
    const value = envValue(env, name);
    if (value === undefined) continue;
    if (setIn(document, path, isPath ? resolve(cwd, value) : value)) sources.set(path.join('.'), name);
  }
  return { sources };
}

/** False when a non-mapping is in the way; validation then reports that value instead. */
function setIn(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = target;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      node[key] = value;
      return true;
    }
    const child = key in node ? node[key] : (node[key] = {});
    if (typeof child !== 'object' || child === null || Array.isArray(child)) return false;
    node = child as Record<string, unknown>;
  }
  return false;
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The digest key from the environment, checked now so a bad key fails at start-up, not on first record. */
export function digestKeyFromEnv(env: NodeJS.ProcessEnv): { key?: string; issue?: ConfigIssue } {
  const key = envValue(env, 'LLM_LEDGER_DIGEST_KEY')?.trim();
  if (key === undefined) return {};
  const fail = (why: string): { issue: ConfigIssue } => ({ issue: { path: 'digest.key', message: `LLM_LEDGER_DIGEST_KEY ${why}` } });
  if (!HEX.test(key) && !BASE64.test(key)) return fail('must be hex or base64 text (its value is not shown)');
  try {
    decodeKeyMaterial(key, 'LLM_LEDGER_DIGEST_KEY');
  } catch {
    return fail('must hold at least 32 bytes: 64 hex characters or 44 base64 characters (its value is not shown)');
  }
  return { key };
}

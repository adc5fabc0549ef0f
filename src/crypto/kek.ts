import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeKeyMaterial } from './key-files.js';

/** A key-encryption key: wraps data keys, never touches content. */
export interface KeyEncryptionKey {
  /** Derived from the key material, so a label can never be attached to the wrong key. */
  readonly id: string;
  readonly key: KeyObject;
}

const HEX_OR_BASE64 = /^(?:[0-9a-fA-F]+|[A-Za-z0-9+/_-]+={0,2})$/;

/**
 * A KEK from hex or base64 text of at least 32 bytes. The AES key and the id are both derived
 * with HKDF under separate labels: longer material is accepted, the same material reused as,
 * say, the digest key yields an unrelated AES key, and the id reveals nothing about either.
 */
export function kekFromText(text: string, what: string): KeyEncryptionKey {
  const trimmed = text.trim();
  if (!HEX_OR_BASE64.test(trimmed)) throw new Error(`${what} must be hex or base64 text (its value is not shown)`);
  const material = decodeKeyMaterial(trimmed, what);
  try {
    const id = `kek-${Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'llm-ledger/kek-id/v1', 8)).toString('hex')}`;
    const key = createSecretKey(Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'llm-ledger/kek/v1', 32)));
    return { id, key };
  } finally {
    material.fill(0);
  }
}

/** A KEK from an environment variable such as LLM_LEDGER_KEK. */
export function kekFromEnv(env: NodeJS.ProcessEnv, variable: string): KeyEncryptionKey {
  const text = env[variable];
  if (text === undefined || text.trim() === '') throw new Error(`${variable} is not set: it must hold a key-encryption key (hex or base64, at least 32 bytes)`);
  return kekFromText(text, variable);
}

/**
 * A KEK from a key file made by `generateKekFile`. A file others can read is refused, as ssh
 * refuses such a private key: whoever reads it can decrypt every subject's content.
 */
export function kekFromFile(path: string): KeyEncryptionKey {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new Error(`KEK file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); create one with generate`, { cause: err });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`KEK file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  return kekFromText(readFileSync(path, 'utf8'), `KEK file ${path}`);
}

/**
 * Writes a new random KEK to `path` with mode 0600. An existing file is never overwritten:
 * replacing a KEK would make every data key it wraps, and so all content under them, unreadable.
 */
export function generateKekFile(path: string): KeyEncryptionKey {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = randomBytes(32).toString('hex');
  try {
    writeFileSync(path, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`KEK file ${path} already exists; refusing to overwrite it`, { cause: err });
    throw err;
  }
  return kekFromText(text, `KEK file ${path}`);
}

/**
 * The configured KEKs, oldest first. The last one wraps every new data key; the others only
 * unwrap data keys made before a rotation, until `rewrap` has moved them all.
 */
export class KekRing {
  readonly newest: KeyEncryptionKey;
  private readonly byId = new Map<string, KeyEncryptionKey>();

  constructor(keks: readonly KeyEncryptionKey[]) {
    const newest = keks.at(-1);
    if (!newest) throw new Error('at least one key-encryption key must be configured');
    for (const kek of keks) {
      if (this.byId.has(kek.id)) throw new Error(`key-encryption key ${kek.id} is configured twice`);
      this.byId.set(kek.id, kek);
    }
    this.newest = newest;
  }

  get(id: string): KeyEncryptionKey | undefined {
    return this.byId.get(id);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }
}

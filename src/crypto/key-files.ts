import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Reads a secret file, creating it with `create()` on first use. The file is written with mode
 * 0600 (any directory created for it 0700) and never overwritten: losing a key would orphan every
 * proof or digest made with it.
 */
export function readOrCreateSecretFile(path: string, create: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = create();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return value;
}

/** Digest keys are given as hex or base64 text; both must decode to at least 32 bytes. */
export function decodeKeyMaterial(text: string, what: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0 ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length < 32) throw new Error(`${what} must hold at least 32 bytes (64 hex characters or 44 base64 characters)`);
  return bytes;
}

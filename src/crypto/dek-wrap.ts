import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { DataKeyUnavailableError } from './content-errors.js';
import type { WrappedDataKey } from './data-key-store.js';
import { framed } from './framing.js';
import type { KekRing, KeyEncryptionKey } from './kek.js';

/*
 * Data keys are wrapped with AES-256-GCM rather than AES-KW (RFC 3394). AES-KW has no
 * associated data, so a wrapped key copied into another subject's row would unwrap there, and
 * erasing that subject would destroy the copy while the original lived on. Here the subject,
 * version and KEK id are associated data: a moved or relabelled wrapped key does not unwrap.
 * Random 96-bit nonces are safe because a KEK wraps one key per subject and rotation, far
 * below the 2^32 wraps NIST allows per key.
 */

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function associatedData(subject: string, version: number, kekId: string): Buffer {
  return framed('llm-ledger/dek/v1', subject, String(version), kekId);
}

export function wrapDataKey(dataKey: KeyObject, subject: string, version: number, kek: KeyEncryptionKey): WrappedDataKey {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, nonce).setAAD(associatedData(subject, version, kek.id));
  const raw = dataKey.export();
  try {
    const wrapped = Buffer.concat([nonce, cipher.update(raw), cipher.final(), cipher.getAuthTag()]);
    return { subject, version, kekId: kek.id, wrapped };
  } finally {
    raw.fill(0);
  }
}

export function unwrapDataKey(stored: WrappedDataKey, keks: KekRing): KeyObject {
  const kek = keks.get(stored.kekId);
  if (!kek) {
    throw new DataKeyUnavailableError(
      'unknown-key',
      `data key v${stored.version} is wrapped by key-encryption key ${stored.kekId}, which is not configured (configured: ${keks.ids.join(', ')})`,
    );
  }
  const { wrapped } = stored;
  let raw: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, wrapped.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(stored.subject, stored.version, kek.id)).setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    raw = Buffer.concat([decipher.update(wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
    return createSecretKey(raw);
  } catch {
    throw new DataKeyUnavailableError(
      'wrong-key',
      `key-encryption key ${kek.id} did not unwrap data key v${stored.version}: the stored wrapped key was altered or moved from another subject or version, or the KEK under that id is not the one that wrapped it`,
    );
  } finally {
    raw?.fill(0);
  }
}

import { createHash } from 'node:crypto';
import { framed } from './framing.js';

/*
 * Content ciphertext, version 1. All integers big-endian.
 *
 *   offset      size  field
 *   0           1     format version (1)
 *   1           2     subject length n, in UTF-8 bytes (1..1024)
 *   3           n     subject (UTF-8)
 *   3+n         4     data key version
 *   7+n         8     key check: HKDF-SHA256 of the data key, label "llm-ledger/key-check/v1"
 *   15+n        4     context check: first bytes of SHA-256 over framed record id and field
 *   19+n        12    nonce (random)
 *   31+n        m     AES-256-GCM ciphertext of the UTF-8 plaintext (m = plaintext bytes)
 *   31+n+m      16    GCM tag
 *
 * Associated data: framed("llm-ledger/content/v1", record id, field) followed by bytes
 * 0..19+n (everything before the nonce). So a ciphertext moved to another record or field, or
 * with any header byte changed (format version, subject, key version, checks), fails to open.
 *
 * The two checks are diagnostics, not the protection: the key check tells "sealed with another
 * key" from tampering (and makes the ciphertext commit to its key, which GCM alone does not);
 * the context check tells "belongs to another record or field" from tampering. Neither reveals
 * anything the stored row beside it does not already hold.
 */

export const FORMAT_VERSION = 1;
export const MAX_SUBJECT_BYTES = 1024;
export const KEY_CHECK_BYTES = 8;
export const CONTEXT_CHECK_BYTES = 4;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export interface CiphertextHeader {
  subject: string;
  dekVersion: number;
  keyCheck: Buffer;
  contextCheck: Buffer;
}

export interface ParsedCiphertext extends CiphertextHeader {
  /** Bytes before the nonce, authenticated as part of the associated data. */
  header: Buffer;
  nonce: Buffer;
  body: Buffer;
  tag: Buffer;
}

export function encodeHeader(h: CiphertextHeader): Buffer {
  const subject = Buffer.from(h.subject, 'utf8');
  const header = Buffer.alloc(3 + subject.length + 4 + KEY_CHECK_BYTES + CONTEXT_CHECK_BYTES);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt16BE(subject.length, 1);
  subject.copy(header, 3);
  header.writeUInt32BE(h.dekVersion, 3 + subject.length);
  h.keyCheck.copy(header, 7 + subject.length);
  h.contextCheck.copy(header, 7 + subject.length + KEY_CHECK_BYTES);
  return header;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a ciphertext into its parts, or says why it is not one. Slices, never copies. */
export function parseCiphertext(bytes: Buffer): ParsedCiphertext | { malformed: string } {
  if (bytes.length < 3) return { malformed: `only ${bytes.length} bytes, too short for any ciphertext` };
  const version = bytes.readUInt8(0);
  if (version !== FORMAT_VERSION) return { malformed: `unsupported format version ${version} (this build reads version ${FORMAT_VERSION})` };
  const n = bytes.readUInt16BE(1);
  const headerLength = 3 + n + 4 + KEY_CHECK_BYTES + CONTEXT_CHECK_BYTES;
  if (n === 0 || n > MAX_SUBJECT_BYTES) return { malformed: `subject length ${n} is outside 1..${MAX_SUBJECT_BYTES}` };
  if (bytes.length < headerLength + NONCE_BYTES + TAG_BYTES)
    return { malformed: `${bytes.length} bytes is shorter than the header, nonce and tag it declares` };
  let subject: string;
  try {
    subject = strictUtf8.decode(bytes.subarray(3, 3 + n));
  } catch {
    return { malformed: 'the subject is not valid UTF-8' };
  }
  const keyCheckAt = 7 + n;
  return {
    subject,
    dekVersion: bytes.readUInt32BE(3 + n),
    keyCheck: bytes.subarray(keyCheckAt, keyCheckAt + KEY_CHECK_BYTES),
    contextCheck: bytes.subarray(keyCheckAt + KEY_CHECK_BYTES, headerLength),
    header: bytes.subarray(0, headerLength),
    nonce: bytes.subarray(headerLength, headerLength + NONCE_BYTES),
    body: bytes.subarray(headerLength + NONCE_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

export function contextCheck(recordId: string, field: string): Buffer {
  return createHash('sha256').update(framed(recordId, field)).digest().subarray(0, CONTEXT_CHECK_BYTES);
}

export function associatedData(recordId: string, field: string, header: Buffer): Buffer {
  return Buffer.concat([framed('llm-ledger/content/v1', recordId, field), header]);
}

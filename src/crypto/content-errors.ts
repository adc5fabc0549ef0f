/**
 * Why content could not be decrypted. AES-GCM only says "authentication failed"; the key check
 * and context check in the ciphertext header narrow that down, but a reason is still a
 * diagnosis from header bytes an attacker could also have altered, and the messages say so.
 */
export type ContentDecryptionReason = 'wrong-key' | 'tampered' | 'wrong-record-or-field' | 'key-erased' | 'unknown-key' | 'malformed';

/**
 * Content could not be decrypted. The message names the record, field and key version, never
 * the subject (a user id is personal data and error messages reach logs), any key material or
 * any plaintext.
 */
export class ContentDecryptionError extends Error {
  override readonly name = 'ContentDecryptionError';
  constructor(
    readonly reason: ContentDecryptionReason,
    readonly recordId: string,
    readonly field: string,
    detail: string,
  ) {
    super(`Cannot decrypt ${field} of record ${recordId} (${reason}): ${detail}`);
  }
}

/**
 * A data key could not be unwrapped: its key-encryption key is not configured, or did not
 * open it. Raised by encryption and rewrapping as is; decryption turns it into a
 * ContentDecryptionError naming the record.
 */
export class DataKeyUnavailableError extends Error {
  override readonly name = 'DataKeyUnavailableError';
  constructor(
    readonly reason: 'unknown-key' | 'wrong-key',
    message: string,
  ) {
    super(message);
  }
}

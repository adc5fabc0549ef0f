/**
 * The digests capture takes of one call's texts, as the envelope carries them (`digests`). They
 * are taken here, in capture, and sealed into the record by `sealEnvelope` (src/record/envelope.ts).
 */
export interface Digests {
  alg: 'hmac-sha256' | 'sha256';
  /** Of the allow-listed headers, one `name: value` line each, sorted by name. */
  headers?: string;
  system?: string;
  input?: string;
  output?: string;
  /** Of the error message (`content.error`), under the responses mode. */
  error?: string;
}

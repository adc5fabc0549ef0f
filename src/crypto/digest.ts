import { hash } from 'node:crypto';

export type DigestAlgorithm = 'hmac-sha256' | 'sha256';

/** SHA-256's block size: HMAC pads its key to one block. */
const BLOCK = 64;

/**
 * Digests of prompt and response text. Keyed (HMAC) by default: equal texts still correlate,
 * but nobody without the key can confirm a guess of a short prompt.
 *
 * HMAC is computed here from its RFC 2104 definition over one-shot SHA-256 calls, with the
 * padded keys prepared once: every record digests up to three texts, and building a native
 * Hmac object per text cost more than the hashing itself (a fifth of the record path, most of
 * it object set-up and its garbage). A test holds it against node's createHmac.
 */
export class Digester {
  /** K xor ipad, followed by room for the message. */
  private inner: Buffer | undefined;
  /** K xor opad, followed by the inner digest. */
  private readonly outer: Buffer | undefined;

  constructor(
    readonly algorithm: DigestAlgorithm,
    key?: Buffer,
  ) {
    if (algorithm === 'sha256') return;
    if (!key || key.length < 32) throw new Error('hmac-sha256 digests need a digest key of at least 32 bytes');
    const block = Buffer.alloc(BLOCK);
    (key.length > BLOCK ? hash('sha256', key, 'buffer') : key).copy(block);
    this.inner = Buffer.alloc(BLOCK + 4096);
    this.outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i++) {
      this.inner[i] = block[i]! ^ 0x36;
      this.outer[i] = block[i]! ^ 0x5c;
    }
  }

  digest(text: string): string {
    if (!this.outer) return hash('sha256', text, 'hex');
    let inner = this.inner!;
    // A UTF-16 code unit is at most three UTF-8 bytes.
    if (BLOCK + text.length * 3 > inner.length) {
      inner = Buffer.alloc(BLOCK + text.length * 3);
      this.inner!.copy(inner, 0, 0, BLOCK);
      this.inner = inner;
    }
    const length = inner.write(text, BLOCK, 'utf8');
    // As a 'binary' (latin1) string: a Buffer from node:crypto costs a native allocation (see sha256.ts).
    this.outer.write(hash('sha256', inner.subarray(0, BLOCK + length), 'binary'), BLOCK, 'binary');
    return hash('sha256', this.outer, 'hex');
  }
}

/** Keys shorter than this keep no prefix: a prefix of a short key gives away too much of it. */
export const MIN_KEY_LENGTH_FOR_PREFIX = 24;
export const KEY_PREFIX_LENGTH = 8;

/** What is kept of an API key: SHA-256 to correlate, and a short prefix humans can recognise. */
export function fingerprintApiKey(apiKey: string): { apiKeyHash: string; apiKeyPrefix?: string } {
  const apiKeyHash = hash('sha256', apiKey, 'hex');
  return apiKey.length >= MIN_KEY_LENGTH_FOR_PREFIX ? { apiKeyHash, apiKeyPrefix: apiKey.slice(0, KEY_PREFIX_LENGTH) } : { apiKeyHash };
}

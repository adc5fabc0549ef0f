import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export type DigestAlgorithm = 'hmac-sha256' | 'sha256';

/**
 * Digests of prompt and response text. Keyed (HMAC) by default: equal texts still correlate,
 * but nobody without the key can confirm a guess of a short prompt.
 */
export class Digester {
  /** A KeyObject made once: handing HMAC a raw Buffer costs a key import on every digest. */
  private readonly key: KeyObject | undefined;

  constructor(
    readonly algorithm: DigestAlgorithm,
    key?: Buffer,
  ) {
    if (algorithm === 'hmac-sha256' && (!key || key.length < 32)) {
      throw new Error('hmac-sha256 digests need a digest key of at least 32 bytes');
    }
    this.key = algorithm === 'hmac-sha256' && key ? createSecretKey(key) : undefined;
  }

  digest(text: string): string {
    const h = this.key ? createHmac('sha256', this.key) : createHash('sha256');
    return h.update(text, 'utf8').digest('hex');
  }
}

/** Keys shorter than this keep no prefix: a prefix of a short key gives away too much of it. */
export const MIN_KEY_LENGTH_FOR_PREFIX = 24;
export const KEY_PREFIX_LENGTH = 8;

/** What is kept of an API key: SHA-256 to correlate, and a short prefix humans can recognise. */
export function fingerprintApiKey(apiKey: string): { apiKeyHash: string; apiKeyPrefix?: string } {
  const apiKeyHash = createHash('sha256').update(apiKey, 'utf8').digest('hex');
  return apiKey.length >= MIN_KEY_LENGTH_FOR_PREFIX ? { apiKeyHash, apiKeyPrefix: apiKey.slice(0, KEY_PREFIX_LENGTH) } : { apiKeyHash };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A gateway key as configured: the SHA-256 of the key (never the key) and whom it stands for. */
export interface KeyIdentity {
  sha256: string;
  user?: string;
  team?: string;
}

/** Who is calling, as far as the gateway can tell. */
export interface CallerIdentity {
  user?: string;
  /** The key's team, recorded as the record's tenant. */
  tenant?: string;
  /** The key the client presented: only its SHA-256 and a short prefix reach the record. */
  apiKey?: string;
}

export type Authentication = { ok: true; identity: CallerIdentity } | { ok: false; problem: string; apiKey?: string };

/**
 * The key a client presents: OpenAI's `Authorization: Bearer`, or Anthropic's `x-api-key`
 * (its SDK sends a bearer token instead when given an auth token).
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const authorization = headers.authorization;
  if (authorization === undefined || authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  return token === '' ? undefined : token;
}

/**
 * Keys known by their SHA-256 (gateway keys, reviewer tokens), each standing for someone. A
 * presented key is hashed and compared with every configured hash in constant time, and the
 * loop never stops early, so neither the timing nor the number of comparisons tells which key
 * (or how much of one) matched.
 */
export class KeyTable<T extends { sha256: string }> {
  private readonly digests: Buffer[];

  constructor(private readonly identities: readonly T[]) {
    this.digests = identities.map((k) => Buffer.from(k.sha256, 'hex'));
  }

  get size(): number {
    return this.identities.length;
  }

  identify(key: string): T | undefined {
    const digest = createHash('sha256').update(key).digest();
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(digest, this.digests[i]!) && found === -1) found = i;
    }
    return found === -1 ? undefined : this.identities[found];
  }
}

/**
 * With gateway keys, a client must present one of them; its user and team become the record's.
 * With pass-through, the client's own provider key goes upstream and the provider decides.
 */
/** The configured gateway keys, each mapped to a user and team. */
export class GatewayKeys extends KeyTable<KeyIdentity> {}

export function authenticate(headers: IncomingHttpHeaders, mode: 'pass_through' | 'gateway_keys', keys: GatewayKeys): Authentication {
  const key = presentedKey(headers);
  if (mode === 'pass_through') return { ok: true, identity: key === undefined ? {} : { apiKey: key } };
  if (key === undefined)
    return { ok: false, problem: 'this gateway needs a gateway key: send it as Authorization: Bearer <key> (OpenAI clients) or x-api-key (Anthropic clients)' };
  const identity = keys.identify(key);
  if (!identity) return { ok: false, problem: 'the key presented is not a gateway key known to this gateway', apiKey: key };
  return {
    ok: true,
    identity: {
      ...(identity.user === undefined ? {} : { user: identity.user }),
      ...(identity.team === undefined ? {} : { tenant: identity.team }),
      apiKey: key,
    },
  };
}

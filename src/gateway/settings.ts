import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors.js';
import type { LedgerConfig } from '../config/schema.js';
import { createPricing, type Pricing } from '../providers/pricing.js';
import type { ProviderName } from '../providers/types.js';
import { GatewayKeys, type KeyIdentity } from './identity.js';
import { Router } from './routing.js';

/** One upstream as the gateway uses it. The key is only ever put into an outgoing request header. */
export interface UpstreamProvider {
  name: string;
  format: ProviderName;
  /** Origin and path prefix that `/v1/...` is appended to, without a trailing slash. */
  baseUrl: string;
  apiKey?: string;
}

/** The gateway section made ready to serve: keys hashed, routes compiled, prices merged. */
export interface GatewaySettings {
  port: number;
  auth: LedgerConfig['gateway']['auth'];
  keys: GatewayKeys;
  router: Router;
  pricing: Pricing;
  requestTimeoutMs: number;
  maxRequestBytes: number;
  durability: LedgerConfig['gateway']['durability'];
  onStoreFailure: LedgerConfig['gateway']['onStoreFailure'];
  shutdownTimeoutMs: number;
  /** How often a failing store is tried again; also the Retry-After of a refusal. */
  retryIntervalMs: number;
  /** Client headers are handed to the ledger only when some may be kept. */
  keepsHeaders: boolean;
  /** Room left for the gateway's own metadata keys within `limits.max_metadata_bytes`. */
  maxClientMetadataBytes: number;
}

/** Bytes of metadata kept back for what the gateway adds (the upstream's request id, stream facts). */
const GATEWAY_METADATA_BYTES = 256;

/**
 * Resolves the validated configuration for serving. Keys named by an environment variable are
 * read and hashed here, at start-up, so a missing one stops the gateway before any traffic.
 */
export function gatewaySettings(config: LedgerConfig, env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const gateway = config.gateway;
  const identities: KeyIdentity[] = gateway.keys.map((key, i) => {
    let sha256 = key.sha256;
    if (key.env !== undefined) {
      const value = env[key.env];
      if (value === undefined || value === '') {
        throw new ConfigError([{ path: `gateway.keys[${i}].env`, message: `gateway.keys[${i}].env names ${key.env}, which is not set; set it to the key, or give the key's sha256 instead` }], 'environment');
      }
      sha256 = createHash('sha256').update(value).digest('hex');
    }
    return { sha256: sha256!, ...(key.user === undefined ? {} : { user: key.user }), ...(key.team === undefined ? {} : { team: key.team }) };
  });
  const providers: UpstreamProvider[] = Object.entries(gateway.providers).map(([name, p]) => ({ name, format: p.format, baseUrl: p.baseUrl, ...(p.apiKey === undefined ? {} : { apiKey: p.apiKey }) }));
  return {
    port: gateway.port,
    auth: gateway.auth,
    keys: new GatewayKeys(identities),
    router: new Router(providers, gateway.models),
    pricing: createPricing(gateway.pricing),
    requestTimeoutMs: gateway.requestTimeoutMs,
    maxRequestBytes: gateway.maxRequestBytes,
    durability: gateway.durability,
    onStoreFailure: gateway.onStoreFailure,
    shutdownTimeoutMs: gateway.shutdownTimeoutMs,
    retryIntervalMs: gateway.retryIntervalMs,
    keepsHeaders: config.capture.headersAllow.length > 0 && config.capture.headers !== 'none',
    maxClientMetadataBytes: Math.max(0, config.limits.maxMetadataBytes - GATEWAY_METADATA_BYTES),
  };
}

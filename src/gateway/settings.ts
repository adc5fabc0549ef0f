import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors.js';
import type { LedgerConfig } from '../config/schema.js';
import { createPricing, type Pricing } from '../providers/pricing.js';
import { buildPolicies } from './governance/build-policies.js';
import type { DailySpend } from '../policy/daily-spend.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Policy } from '../policy/types.js';
import { GatewayKeys, KeyTable, type KeyIdentity } from './http/identity.js';
import { Router } from './governance/routing.js';
import type { UpstreamProvider } from './upstream-provider.js';

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
  /** Batched durability: how long a finished call's records wait for company before they are sealed (see RecordWindow). */
  batchWindowMs: number;
  onStoreFailure: LedgerConfig['gateway']['onStoreFailure'];
  shutdownTimeoutMs: number;
  /** How often a failing store is tried again; also the Retry-After of a refusal. */
  retryIntervalMs: number;
  /** Client headers are handed to the ledger only when some may be kept. */
  keepsHeaders: boolean;
  /** Room left for the gateway's own metadata keys within `limits.max_metadata_bytes`. */
  maxClientMetadataBytes: number;
  /** The policies of both checkpoints. */
  policies: PolicyEngine;
  /** The day's spend budgets read: loaded from the ledger before serving. */
  spend?: DailySpend;
  streamWindowChars: number;
  /** Reviewer tokens (by SHA-256), each standing for a named reviewer. */
  reviewers: KeyTable<Reviewer>;
  reviewPollIntervalMs: number;
  approvalTtlMs: number;
}

/** Someone who may decide reviews, and whether they may read the content under review. */
export interface Reviewer {
  sha256: string;
  name: string;
  reveal: boolean;
}

/** Bytes of metadata kept back for what the gateway adds (the upstream's request id, stream facts). */
const GATEWAY_METADATA_BYTES = 256;

/**
 * Resolves the validated configuration for serving. Keys named by an environment variable are
 * read and hashed here, at start-up, so a missing one stops the gateway before any traffic.
 */
export function gatewaySettings(config: LedgerConfig, env: NodeJS.ProcessEnv = process.env, extraPolicies: readonly Policy[] = []): GatewaySettings {
  const gateway = config.gateway;
  const identities: KeyIdentity[] = gateway.keys.map((key, i) => ({
    sha256: keyHash(key, `gateway.keys[${i}]`, 'key', env),
    ...(key.user === undefined ? {} : { user: key.user }),
    ...(key.team === undefined ? {} : { team: key.team }),
  }));
  const reviewers: Reviewer[] = gateway.review.reviewers.map((r, i) => ({
    sha256: keyHash(r, `gateway.review.reviewers[${i}]`, 'token', env),
    name: r.name,
    reveal: r.reveal,
  }));
  const { engine, spend } = buildPolicies(gateway.policies, { timeoutMs: gateway.policyTimeoutMs, extra: extraPolicies });
  const providers: UpstreamProvider[] = Object.entries(gateway.providers).map(([name, p]) => ({
    name,
    format: p.format,
    baseUrl: p.baseUrl,
    ...(p.apiKey === undefined ? {} : { apiKey: p.apiKey }),
  }));
  return {
    port: gateway.port,
    auth: gateway.auth,
    keys: new GatewayKeys(identities),
    router: new Router(providers, gateway.models, gateway.retry, gateway.requestTimeoutMs),
    pricing: createPricing(gateway.pricing),
    requestTimeoutMs: gateway.requestTimeoutMs,
    maxRequestBytes: gateway.maxRequestBytes,
    durability: gateway.durability,
    batchWindowMs: gateway.batchWindowMs,
    onStoreFailure: gateway.onStoreFailure,
    shutdownTimeoutMs: gateway.shutdownTimeoutMs,
    retryIntervalMs: gateway.retryIntervalMs,
    keepsHeaders: config.capture.headersAllow.length > 0 && config.capture.headers !== 'none',
    maxClientMetadataBytes: Math.max(0, config.limits.maxMetadataBytes - GATEWAY_METADATA_BYTES),
    policies: engine,
    ...(spend ? { spend } : {}),
    streamWindowChars: gateway.streamWindowChars,
    reviewers: new KeyTable(reviewers),
    reviewPollIntervalMs: gateway.review.pollIntervalMs,
    approvalTtlMs: gateway.review.approvalTtlMs,
  };
}

/**
 * The SHA-256 of a configured key or token: given as such, or hashed here from the environment
 * variable that holds it, at start-up, so a missing one stops the gateway before any traffic.
 */
function keyHash(entry: { sha256?: string; env?: string }, path: string, what: string, env: NodeJS.ProcessEnv): string {
  if (entry.env === undefined) return entry.sha256!;
  const value = env[entry.env];
  if (value === undefined || value === '') {
    throw new ConfigError(
      [{ path: `${path}.env`, message: `${path}.env names ${entry.env}, which is not set; set it to the ${what}, or give the ${what}'s sha256 instead` }],
      'environment',
    );
  }
  return createHash('sha256').update(value).digest('hex');
}

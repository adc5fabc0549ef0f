import * as z from 'zod';
import { section } from './schema-parts.js';

/*
 * Routing in the gateway: which providers serve a model, in which order, and how failed
 * attempts are retried before the next provider is tried.
 */

export const providerName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'must be a name of letters, digits, _ . and - (at most 64)' });

/** Retry settings; all optional here, so a route's own block overrides only what it names. */
const retryFields = {
  // Further attempts at one provider after the first, on 429, 5xx, a network error or an attempt timeout.
  max_retries: z.int().min(0).max(10).optional(),
  // The first wait; each later one doubles, up to max_backoff_ms, with full jitter.
  initial_backoff_ms: z.int().min(0).max(60_000).optional(),
  max_backoff_ms: z.int().min(0).max(600_000).optional(),
  // How long one attempt may wait for the upstream's status and headers (default: gateway.request_timeout_ms).
  attempt_timeout_ms: z.int().min(1).max(3_600_000).optional(),
  // A Retry-After longer than this is not waited for: the next provider is tried instead.
  max_retry_after_ms: z.int().min(0).max(600_000).optional(),
};

export const retrySchema = section(retryFields);

export const RETRY_DEFAULTS = { maxRetries: 0, initialBackoffMs: 250, maxBackoffMs: 8000, maxRetryAfterMs: 30_000 } as const;

/** A provider, by name, to send the call to; `model` renames the model for that provider. */
const target = z.union([
  providerName.transform((provider): RouteTargetConfig => ({ provider })),
  section({ provider: providerName, model: z.string().min(1).max(256).optional() }).transform((t): RouteTargetConfig => t),
]);

export interface RouteTargetConfig {
  provider: string;
  model?: string;
}

export const routeSchema = section({
  // A model name, or a glob with * (any run of characters), matched in any case.
  match: z.string().min(1).max(256),
  // One provider ...
  provider: providerName.optional(),
  // ... or several, in order: the first, then the fallbacks when it fails.
  providers: z.array(target).min(1).max(16).optional(),
  retry: retrySchema.optional(),
})
  .refine((r) => (r.provider === undefined) !== (r.providers === undefined), {
    message: 'needs exactly one of provider (one name) or providers (a list, tried in order)',
  })
  .transform(({ provider, providers, ...rest }) => ({ ...rest, targets: providers ?? [{ provider: provider! }] }));

export type RouteConfig = z.output<typeof routeSchema>;

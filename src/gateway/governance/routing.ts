import type { RetryConfig } from '../../config/schema.js';
import type { RouteConfig } from '../../config/schema-routing.js';
import { RETRY_DEFAULTS } from '../../config/schema-routing.js';
import { globPattern } from '../../policy/model-glob.js';
import type { ProviderName } from '../../providers/types.js';
import type { UpstreamProvider } from '../upstream-provider.js';

/** One place a call may go: a provider, and the model name to ask it for (when renamed). */
export interface RouteTarget {
  provider: UpstreamProvider;
  /** Replaces the request's `model` for this provider. */
  model?: string;
}

/** How failed attempts are retried, resolved from the gateway's and the route's settings. */
export interface RetryPolicy {
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  attemptTimeoutMs: number;
  maxRetryAfterMs: number;
}

/** Where one call goes: targets in order (the first, then fallbacks), and how each is retried. */
export interface RoutePlan {
  targets: readonly RouteTarget[];
  retry: RetryPolicy;
}

export type RouteResult = { plan: RoutePlan } | { problem: string };

interface CompiledRoute {
  pattern: RegExp;
  plan: RoutePlan;
}

/**
 * Picks the upstreams for a model: the first configured route whose pattern matches, else the
 * first provider speaking the endpoint's wire format. The gateway forwards the client's wire
 * format, so a provider that speaks another format than the endpoint's cannot serve the call.
 */
export class Router {
  private readonly routes: CompiledRoute[];
  private readonly defaults = new Map<ProviderName, RoutePlan>();

  constructor(
    private readonly providers: readonly UpstreamProvider[],
    routes: readonly RouteConfig[],
    retry: RetryConfig,
    requestTimeoutMs: number,
  ) {
    const byName = new Map(providers.map((p) => [p.name, p]));
    const resolve = (own?: RetryConfig): RetryPolicy => ({ ...RETRY_DEFAULTS, attemptTimeoutMs: requestTimeoutMs, ...retry, ...own });
    this.routes = routes.map((r) => ({
      pattern: globPattern(r.match),
      plan: {
        targets: r.targets.map((t) => ({ provider: byName.get(t.provider)!, ...(t.model === undefined ? {} : { model: t.model }) })),
        retry: resolve(r.retry),
      },
    }));
    for (const provider of providers)
      if (!this.defaults.has(provider.format)) this.defaults.set(provider.format, { targets: [{ provider }], retry: resolve() });
  }

  route(model: string | undefined, format: ProviderName): RouteResult {
    const routed = model === undefined ? undefined : this.routes.find((r) => r.pattern.test(model))?.plan;
    if (routed) {
      const { format: speaks, name } = routed.targets[0]!.provider;
      if (speaks === format) return { plan: routed };
      return {
        problem: `model "${model}" is routed to provider "${name}", which speaks the ${speaks} format; call it through ${speaks === 'anthropic' ? '/v1/messages' : 'the OpenAI endpoints (/v1/chat/completions, ...)'}`,
      };
    }
    const fallback = this.defaults.get(format);
    if (fallback) return { plan: fallback };
    return { problem: `no configured provider speaks the ${format} format; add one under gateway.providers` };
  }

  /** The provider for requests that name no model (`GET /v1/models`). */
  firstOfFormat(format: ProviderName): UpstreamProvider | undefined {
    return this.providers.find((p) => p.format === format);
  }
}

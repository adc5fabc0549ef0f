import type { ProviderName } from '../providers/types.js';
import type { UpstreamProvider } from './settings.js';

export type RouteResult = { provider: UpstreamProvider } | { problem: string };

interface CompiledRoute {
  pattern: RegExp;
  provider: UpstreamProvider;
}

/** `gpt-*` -> /^gpt-.*$/i: only `*` is special, everything else matches itself. */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Picks the upstream for a model: the first configured route whose pattern matches, else the
 * first provider speaking the endpoint's wire format. The gateway forwards bytes unchanged, so a
 * provider that speaks another format than the endpoint's cannot serve the call.
 */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(
    private readonly providers: readonly UpstreamProvider[],
    routes: readonly { match: string; provider: string }[],
  ) {
    const byName = new Map(providers.map((p) => [p.name, p]));
    this.routes = routes.map((r) => ({ pattern: globPattern(r.match), provider: byName.get(r.provider)! }));
  }

  route(model: string | undefined, format: ProviderName): RouteResult {
    const routed = model === undefined ? undefined : this.routes.find((r) => r.pattern.test(model))?.provider;
    if (routed) {
      if (routed.format === format) return { provider: routed };
      return { problem: `model "${model}" is routed to provider "${routed.name}", which speaks the ${routed.format} format; call it through ${routed.format === 'anthropic' ? '/v1/messages' : 'the OpenAI endpoints (/v1/chat/completions, ...)'}` };
    }
    const fallback = this.providers.find((p) => p.format === format);
    if (fallback) return { provider: fallback };
    return { problem: `no configured provider speaks the ${format} format; add one under gateway.providers` };
  }

  /** The provider for requests that name no model (`GET /v1/models`). */
  firstOfFormat(format: ProviderName): UpstreamProvider | undefined {
    return this.providers.find((p) => p.format === format);
  }
}

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { UpstreamProvider } from '../upstream-provider.js';

// Headers that describe one hop, not the message; `host` is the upstream's own. Accept-encoding
// is replaced: the gateway reads answers on their way through, so it asks for them uncompressed.
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'host',
  'accept-encoding',
]);
const CLIENT_CREDENTIALS: ReadonlySet<string> = new Set(['authorization', 'x-api-key', 'api-key']);
const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade']);

interface Target {
  https: boolean;
  hostname: string;
  port: number;
  pathPrefix: string;
}

/**
 * Sends requests to upstreams over kept-alive connections: a new TLS handshake per call would
 * cost more than everything else the gateway does.
 */
export class UpstreamClient {
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https = new HttpsAgent({ keepAlive: true });
  private readonly targets = new Map<string, Target>();

  /**
   * Starts a request to `provider` for `pathAndQuery` (the client's `/v1/...` path and query). The
   * caller handles 'response' and 'error' and ends it with the body.
   */
  request(provider: UpstreamProvider, method: string, pathAndQuery: string, headers: OutgoingHttpHeaders): ClientRequest {
    const target = this.target(provider);
    const options = { method, hostname: target.hostname, port: target.port, path: target.pathPrefix + pathAndQuery, headers, setNoDelay: true };
    return target.https ? httpsRequest({ ...options, agent: this.https }) : httpRequest({ ...options, agent: this.http });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private target(provider: UpstreamProvider): Target {
    let target = this.targets.get(provider.baseUrl);
    if (!target) {
      const url = new URL(provider.baseUrl);
      const https = url.protocol === 'https:';
      target = {
        https,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
        pathPrefix: url.pathname.replace(/\/+$/, ''),
      };
      this.targets.set(provider.baseUrl, target);
    }
    return target;
  }
}

/**
 * The client's headers as the upstream gets them: hop-by-hop and the gateway's own
 * `x-llm-ledger-*` headers removed. With gateway keys, the client's credential is replaced by
 * the provider's key, in the header that provider reads; with pass-through it goes on as sent.
 */
export function upstreamHeaders(client: IncomingHttpHeaders, provider: UpstreamProvider, replaceCredentials: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in client) {
    if (HOP_BY_HOP.has(name) || name.startsWith('x-llm-ledger-')) continue;
    if (replaceCredentials && CLIENT_CREDENTIALS.has(name)) continue;
    out[name] = client[name];
  }
  out['accept-encoding'] = 'identity';
  if (replaceCredentials && provider.apiKey !== undefined) {
    if (provider.format === 'anthropic') out['x-api-key'] = provider.apiKey;
    else out.authorization = `Bearer ${provider.apiKey}`;
  }
  return out;
}

/**
 * The upstream's response headers for the client, plus the gateway's request and trace ids. The
 * upstream's own `x-request-id` moves to `x-upstream-request-id`, so neither id is lost.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestId: string, traceId: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (RESPONSE_HOP_BY_HOP.has(name)) continue;
    if (name === 'x-request-id') out['x-upstream-request-id'] = upstream[name];
    else out[name] = upstream[name];
  }
  out['x-request-id'] = requestId;
  out['x-trace-id'] = traceId;
  return out;
}

/** The id the provider gave the call (OpenAI's `x-request-id`, Anthropic's `request-id`), for support tickets. */
export function upstreamRequestId(headers: IncomingHttpHeaders): string | undefined {
  const id = headers['x-request-id'] ?? headers['request-id'];
  const value = Array.isArray(id) ? id[0] : id;
  return value !== undefined && value.length <= 128 ? value : undefined;
}

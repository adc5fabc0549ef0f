import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProviderName } from '../../providers/types.js';
import type { RecordInput } from '../../record/types.js';
import { readClientContext } from './client-context.js';
import { authenticate, type CallerIdentity } from './identity.js';
import type { GatewayRuntime } from '../runtime.js';
import { clientResponseHeaders, upstreamHeaders } from '../call/upstream.js';
import { unauthorized, type GatewayError } from './wire-errors.js';

/**
 * `GET /v1/models` (and `/v1/models/{id}`): relayed to the first provider speaking the client's
 * format (Anthropic clients send `anthropic-version`). Listing models is no LLM call, so it is
 * recorded as a `models_listed` event rather than an `llm.call`.
 */
export function serveModels(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse): void {
  const { settings } = runtime;
  const startedAt = performance.now();
  const { context } = readClientContext(req.headers, settings.maxClientMetadataBytes);
  res.setHeader('x-request-id', context.requestId);
  res.setHeader('x-trace-id', context.traceId);
  const format: ProviderName = req.headers['anthropic-version'] === undefined ? 'openai' : 'anthropic';
  const provider = settings.router.firstOfFormat(format);
  let identity: CallerIdentity = {};
  const event = (fields: Partial<RecordInput>): RecordInput => {
    const input: RecordInput = {
      kind: 'event',
      eventType: 'models_listed',
      component: 'gateway',
      traceId: context.traceId,
      requestId: context.requestId,
      endpoint: 'models',
      latencyMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
      ...fields,
    };
    if (provider) input.provider = provider.name;
    const user = identity.user ?? context.user;
    if (user !== undefined) input.user = user;
    if (identity.tenant !== undefined) input.tenant = identity.tenant;
    if (identity.apiKey !== undefined) input.apiKey = identity.apiKey;
    return input;
  };
  const fail = (error: GatewayError): void => {
    void runtime.record(event({ status: 'error', httpStatus: error.status, error: error.message })).then(() => runtime.sendError(res, format, error));
  };

  const auth = authenticate(req.headers, settings.auth, settings.keys);
  if (!auth.ok) {
    if (auth.apiKey !== undefined) identity = { apiKey: auth.apiKey };
    return fail(unauthorized(auth.problem));
  }
  identity = auth.identity;
  if (req.method !== 'GET') return fail({ status: 405, type: 'invalid_request_error', message: `${req.method} is not allowed here; list models with GET` });
  if (!provider) return fail({ status: 404, type: 'not_found_error', message: `no configured provider speaks the ${format} format` });
  if (runtime.refusesTraffic()) {
    runtime.refused();
    return runtime.sendError(res, format, {
      status: 503,
      type: 'ledger_unavailable',
      message: 'the audit ledger cannot record requests right now and this gateway fails closed; retry later',
    });
  }

  const upstreamReq = runtime.upstream.request(
    provider,
    'GET',
    req.url ?? '/v1/models',
    upstreamHeaders(req.headers, provider, settings.auth === 'gateway_keys'),
  );
  const timer = setTimeout(() => upstreamReq.destroy(new Error('timeout')), settings.requestTimeoutMs);
  upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (res.headersSent) return void res.destroy();
    fail({
      status: err.message === 'timeout' ? 504 : 502,
      type: 'upstream_unreachable',
      message: `the upstream ${provider.name} did not answer: ${err.code ?? err.message}`,
    });
  });
  upstreamReq.on('response', (incoming) => {
    const status = incoming.statusCode ?? 502;
    res.writeHead(status, clientResponseHeaders(incoming.headers, context.requestId, context.traceId));
    incoming.pipe(res);
    incoming.on('end', () => {
      clearTimeout(timer);
      void runtime.record(event({ status: status < 400 ? 'success' : 'error', httpStatus: status }));
    });
  });
  upstreamReq.end();
}

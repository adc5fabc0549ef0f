import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LedgerConfig } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { adapterForPath } from '../../providers/adapters.js';
import { newId } from '../../record/ids.js';
import { newTraceId, traceIdFrom } from './client-context.js';
import { serveCall } from '../call/exchange.js';
import { serveModels } from './models-endpoint.js';
import { serveReviews } from './review-api.js';
import { GATEWAY_HOST, REVIEWS_PATH } from './addresses.js';
import type { Policy } from '../../policy/types.js';
import { GatewayRuntime } from '../runtime.js';
import { gatewaySettings } from '../settings.js';
import { gatewayErrorBody } from './wire-errors.js';

export interface GatewayOptions {
  /** The ledger every call is recorded in; the caller opens and closes it. */
  ledger: Ledger;
  /** The loaded configuration: its `gateway` section, and the capture and limits the records obey. */
  config: LedgerConfig;
  /** Where keys named by `gateway.keys[].env` are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Overrides `gateway.port`; 0 picks a free port. */
  port?: number;
  /** Operational messages (a record that could not be written); never call content or keys. */
  log?: (line: string) => void;
  /** Policies given in code, checked after the configured ones (see src/policy/types.ts). */
  policies?: readonly Policy[];
}

export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:8787`; clients use `${url}/v1`. */
  readonly url: string;
  readonly port: number;
  /**
   * Graceful stop: stops accepting connections, lets requests in flight finish (up to
   * `gateway.shutdown_timeout_ms`, then cuts them off and records them as aborted), and waits
   * until every record is written. The ledger stays open: close it next.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export { GATEWAY_HOST } from './addresses.js';

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const settings = gatewaySettings(options.config, options.env, options.policies);
  // Budgets count from what the day's calls in the ledger already cost.
  await settings.spend?.load(options.ledger);
  const runtime = new GatewayRuntime(
    options.ledger,
    settings,
    options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    options.config.store.appendTimeoutMs,
  );
  const server: Server = createServer({ noDelay: true }, (req, res) => route(runtime, req, res));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? settings.port, GATEWAY_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${GATEWAY_HOST}:${port}`,
    port,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await runtime.finishRequests(closeOptions.timeoutMs ?? settings.shutdownTimeoutMs);
        server.closeAllConnections();
        await runtime.settle();
        await closed;
        runtime.upstream.close();
      })();
      return closing;
    },
  };
}

function route(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse): void {
  runtime.track(res);
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (path === '/v1/models' || path.startsWith('/v1/models/')) return serveModels(runtime, req, res);
  const adapter = adapterForPath(path);
  if (adapter && req.method === 'POST') {
    serveCall(runtime, req, res, adapter).catch((err: Error) => {
      runtime.log(`llm-ledger gateway: request failed inside the gateway: ${err.message}`);
      if (!res.headersSent) runtime.sendError(res, adapter.provider, { status: 500, type: 'api_error', message: 'the gateway failed to handle this request' });
      else res.destroy();
    });
    return;
  }
  // Every answer carries request and trace ids, these too.
  const traceparent = req.headers.traceparent;
  res.setHeader('x-request-id', newId());
  res.setHeader('x-trace-id', (typeof traceparent === 'string' ? traceIdFrom(traceparent) : undefined) ?? newTraceId());
  if (path === '/health') return serveHealth(runtime, res);
  if (path === REVIEWS_PATH || path.startsWith(`${REVIEWS_PATH}/`)) {
    serveReviews(runtime, req, res, path).catch((err: Error) => {
      runtime.log(`llm-ledger gateway: the review API failed: ${err.message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
    return;
  }
  if (!adapter) return notFound(res, path);
  const body = gatewayErrorBody(adapter.provider, { status: 405, type: 'invalid_request_error', message: `${path} takes POST, not ${req.method}` });
  res.writeHead(405, { 'content-type': 'application/json', allow: 'POST' }).end(body);
}

/**
 * Liveness and the ledger's state, for load balancers and operators: no call data, no keys. The
 * store counts as unavailable from a failed append until one succeeds, and while a record write
 * has been pending longer than `store.append_timeout_ms` (`stalledSince`).
 */
function serveHealth(runtime: GatewayRuntime, res: ServerResponse): void {
  const store = runtime.ledger.storeHealth();
  const stalledSince = runtime.stalledSince();
  const available = store.available && stalledSince === undefined;
  const refusing = !available && runtime.settings.onStoreFailure === 'fail_closed';
  const body = JSON.stringify({
    status: available ? 'ok' : refusing ? 'refusing' : 'spooling',
    store: { available, spooled: store.spooled, ...(store.since ? { unavailableSince: store.since } : {}), ...(stalledSince ? { stalledSince } : {}) },
    failedRecords: runtime.failedRecords,
  });
  res.writeHead(refusing ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
}

function notFound(res: ServerResponse, path: string): void {
  const body = gatewayErrorBody('openai', {
    status: 404,
    type: 'not_found_error',
    message: `no endpoint ${path} here; the gateway serves /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/completions, /v1/models and /v1/messages`,
  });
  res.writeHead(404, { 'content-type': 'application/json' }).end(body);
}

import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { CallTrace } from './call-trace.js';
import type { RouteTarget, RoutePlan } from '../governance/routing.js';
import { backoffMs, retryAfterMs } from './retry-after.js';
import type { GatewayRuntime } from '../runtime.js';
import { upstreamHeaders } from './upstream.js';

/** The outcome of routing one call. */
export type Routed =
  /** An upstream answered and this is its answer, to relay as it is (`exhausted`: a retryable failure, and nothing was left to try). */
  | { kind: 'answer'; incoming: IncomingMessage; target: RouteTarget; attempts: number; exhausted: boolean }
  /** No upstream could be reached (network errors, attempt timeouts). */
  | { kind: 'unreachable'; error: string; timedOut: boolean; attempts: number }
  /** The client went away, or the whole request timed out: whoever aborted answers. */
  | { kind: 'cancelled' };

export interface RouteCallInput {
  plan: RoutePlan;
  trace: CallTrace;
  /** The client's path and query, e.g. `/v1/chat/completions`. */
  path: string;
  clientHeaders: IncomingHttpHeaders;
  /** The body as the client sent it (or as policies rewrote it). */
  body: Buffer;
  /** The same body parsed: a target that renames the model gets a copy with its own `model`. */
  json: Record<string, unknown>;
  /** Each attempt's request as it starts, so a disconnect or timeout can cancel it; and its target. */
  onAttempt(request: ClientRequest, target: RouteTarget): void;
  signal: AbortSignal;
}

type Sent = { incoming: IncomingMessage } | { error: string; timedOut: boolean };

/** Statuses worth another try: rate limits and server-side failures (Anthropic's 529 "overloaded" included). */
export function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Sends a call along its route: each target in order, each tried up to `1 + maxRetries` times on
 * 429, 5xx, a network error or an attempt timeout (waiting Retry-After when the upstream gives
 * one and it is short enough, else a jittered exponential backoff), then the next target. Every
 * failed attempt, fallback, and the final success or failure is an event in the call's trace.
 * The answer that ends it is relayed unchanged, even a failure when nothing was left to try.
 */
export async function routeCall(runtime: GatewayRuntime, input: RouteCallInput): Promise<Routed> {
  const { plan, trace, signal } = input;
  const { retry } = plan;
  trace.event('routing_start', 'router', {
    model: input.json.model as string,
    metadata: { targets: plan.targets.map((t) => (t.model === undefined ? t.provider.name : `${t.provider.name}:${t.model}`)), maxRetries: retry.maxRetries },
  });
  let attempts = 0;
  let lastError = '';
  let lastTimedOut = false;
  for (let t = 0; t < plan.targets.length; t++) {
    const target = plan.targets[t]!;
    const model = target.model ?? (input.json.model as string);
    if (t > 0)
      trace.event('routing_fallback', 'router', {
        provider: target.provider.name,
        model,
        metadata: { from: plan.targets[t - 1]!.provider.name, to: target.provider.name },
      });
    const body = target.model === undefined ? input.body : Buffer.from(JSON.stringify({ ...input.json, model: target.model }));
    const hasNextTarget = t < plan.targets.length - 1;
    for (let retryNo = 0; retryNo <= retry.maxRetries; retryNo++) {
      attempts++;
      const started = performance.now();
      const sent = await sendOnce(runtime, input, target, body, retry.attemptTimeoutMs);
      if (signal.aborted) {
        if ('incoming' in sent) sent.incoming.destroy();
        return { kind: 'cancelled' };
      }
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      const facts = { provider: target.provider.name, model, latencyMs };
      if ('incoming' in sent) {
        const status = sent.incoming.statusCode ?? 502;
        if (!retryable(status)) {
          trace.event('routing_success', 'router', { ...facts, httpStatus: status, metadata: { attempts } });
          return { kind: 'answer', incoming: sent.incoming, target, attempts, exhausted: false };
        }
        const asked = retryAfterMs(sent.incoming.headers);
        const canRetryHere = retryNo < retry.maxRetries && !(asked !== undefined && asked > retry.maxRetryAfterMs);
        if (!canRetryHere && !hasNextTarget) {
          trace.event('routing_attempt_failed', 'router', {
            ...facts,
            status: 'error',
            httpStatus: status,
            error: `HTTP ${status}`,
            metadata: { attempt: attempts, next: 'give_up' },
          });
          trace.event('routing_failed', 'router', {
            status: 'error',
            httpStatus: status,
            error: `every provider failed; the last answered HTTP ${status}`,
            metadata: { attempts },
          });
          return { kind: 'answer', incoming: sent.incoming, target, attempts, exhausted: true };
        }
        // Read and dropped, so the connection can serve the next call.
        sent.incoming.resume();
        const delay = canRetryHere ? (asked ?? backoffMs(retryNo, retry.initialBackoffMs, retry.maxBackoffMs)) : 0;
        trace.event('routing_attempt_failed', 'router', {
          ...facts,
          status: 'error',
          httpStatus: status,
          error: `HTTP ${status}`,
          metadata: {
            attempt: attempts,
            next: canRetryHere ? 'retry' : 'fallback',
            ...(canRetryHere ? { retryInMs: delay } : {}),
            ...(asked === undefined ? {} : { retryAfterMs: asked }),
          },
        });
        if (!canRetryHere) break;
        if (!(await sleep(delay, signal))) return { kind: 'cancelled' };
        continue;
      }
      lastError = sent.error;
      lastTimedOut = sent.timedOut;
      const canRetryHere = retryNo < retry.maxRetries;
      const next = canRetryHere ? 'retry' : hasNextTarget ? 'fallback' : 'give_up';
      const delay = canRetryHere ? backoffMs(retryNo, retry.initialBackoffMs, retry.maxBackoffMs) : 0;
      trace.event('routing_attempt_failed', 'router', {
        ...facts,
        status: 'error',
        error: sent.error,
        metadata: { attempt: attempts, next, ...(canRetryHere ? { retryInMs: delay } : {}), ...(sent.timedOut ? { timedOut: true } : {}) },
      });
      if (!canRetryHere) break;
      if (!(await sleep(delay, signal))) return { kind: 'cancelled' };
    }
  }
  trace.event('routing_failed', 'router', {
    status: 'error',
    httpStatus: lastTimedOut ? 504 : 502,
    error: `every provider failed; the last: ${lastError}`,
    metadata: { attempts },
  });
  return { kind: 'unreachable', error: lastError, timedOut: lastTimedOut, attempts };
}

/** One attempt: resolves with the upstream's status and headers (its body still to come), or why there were none. */
function sendOnce(runtime: GatewayRuntime, input: RouteCallInput, target: RouteTarget, body: Buffer, timeoutMs: number): Promise<Sent> {
  const { provider } = target;
  const headers = upstreamHeaders(input.clientHeaders, provider, runtime.settings.auth === 'gateway_keys');
  headers['content-length'] = body.length;
  const request = runtime.upstream.request(provider, 'POST', input.path, headers);
  input.onAttempt(request, target);
  return new Promise<Sent>((resolve) => {
    let done = false;
    const settle = (sent: Sent) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(sent);
    };
    const timer = setTimeout(() => {
      request.destroy();
      settle({ error: `the upstream ${provider.name} sent no answer within ${timeoutMs} ms`, timedOut: true });
    }, timeoutMs);
    request.on('response', (incoming: IncomingMessage) => settle({ incoming }));
    request.on('error', (err: NodeJS.ErrnoException) =>
      settle({ error: `cannot reach the upstream ${provider.name}: ${err.code ?? err.message}`, timedOut: false }),
    );
    request.end(body);
  });
}

/** Waits, unless the signal fires first; resolves false when it did. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

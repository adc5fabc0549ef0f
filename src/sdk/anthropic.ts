import type Anthropic from '@anthropic-ai/sdk';
import type { Middleware } from '@anthropic-ai/sdk';
import type { Ledger } from '../ledger/ledger.js';
import { anthropicMessagesAdapter } from '../providers/anthropic-messages.js';
import { currentCall } from './audited-call.js';
import { Auditor, type AuditTarget } from './auditor.js';
import { auditorOf, instrument } from './instrument.js';
import type { AuditOptions } from './options.js';
import { requestTarget } from './request-target.js';

/**
 * The tap, as Anthropic middleware. Middleware sees the canonical request and its SSE answer on
 * every backend (Bedrock and Vertex adapt inside `next`), which a custom fetch would not.
 * Requests outside an API call (credential token exchanges) pass straight through.
 */
const tap: Middleware = (request, next, context) => {
  const call = context.options === undefined ? undefined : currentCall.getStore();
  return call ? call.attempt(request.url, request, () => next(request)) : next(request);
};

/**
 * An Anthropic client that records one `llm.call` per `messages.create` (plain or streamed) and
 * per `messages.stream(...)` helper call, beta messages included, and otherwise behaves exactly as
 * `client` does: same class, same results, `MessageStream` events (`on('text')`,
 * `finalMessage()`) as documented, same errors (the very instances the SDK throws). `client`
 * itself is left unaudited.
 *
 * It is `client.withOptions()` with one more middleware, last in the client's chain: each HTTP
 * attempt passes through untouched while a copy of its answer is read for the record, and
 * retries belong to one call. Other requests (token counting, batches, models) are not recorded.
 * Recording never delays or fails a call: see `AuditOptions.onLedgerError`; `flushAudit(client)`
 * waits for pending records.
 */
export function auditAnthropic<C extends Anthropic>(client: C, ledger: Pick<Ledger, 'record'>, options: AuditOptions = {}): C {
  if (auditorOf(client)) throw new TypeError('llm-ledger: this Anthropic client is already audited; audit the original client once');
  const auditor = new Auditor(ledger, options, (requestOptions) => anthropicTarget(requestOptions));
  const retap = (opts: object): object => {
    const own = (opts as { middleware?: unknown }).middleware;
    return Array.isArray(own) && !own.includes(tap) ? { ...opts, middleware: [...(own as Middleware[]), tap] } : opts;
  };
  return instrument(client.withOptions({ middleware: [...client.middleware, tap] }), auditor, retap);
}

function anthropicTarget(requestOptions: unknown): AuditTarget | undefined {
  const target = requestTarget(requestOptions);
  return target && target.method === 'post' && target.path === anthropicMessagesAdapter.path
    ? { adapter: anthropicMessagesAdapter, path: target.path }
    : undefined;
}

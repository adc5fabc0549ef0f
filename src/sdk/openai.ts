import type OpenAI from 'openai';
import type { Ledger } from '../ledger/ledger.js';
import { openAIChatAdapter } from '../providers/openai-chat.js';
import { openAICompletionsAdapter } from '../providers/openai-completions.js';
import { openAIEmbeddingsAdapter } from '../providers/openai-embeddings.js';
import { openAIResponsesAdapter } from '../providers/openai-responses.js';
import type { ProviderAdapter } from '../providers/types.js';
import { currentCall } from './audited-call.js';
import { Auditor, type AuditTarget } from './auditor.js';
import { auditorOf, instrument } from './instrument.js';
import type { AuditOptions } from './options.js';
import { requestTarget } from './request-target.js';

/** The SDK's request paths (relative to its base URL) of the calls that are recorded. */
const ENDPOINTS: ReadonlyMap<string, ProviderAdapter> = new Map([
  ['/chat/completions', openAIChatAdapter],
  ['/responses', openAIResponsesAdapter],
  ['/embeddings', openAIEmbeddingsAdapter],
  ['/completions', openAICompletionsAdapter],
]);

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * An OpenAI client that records one `llm.call` per chat completion, Responses API call,
 * embedding and legacy completion, streamed or not, and otherwise behaves exactly as `client`
 * does: same class, same results, same streams and stream helpers, same errors (the very
 * instances the SDK throws). `client` itself is left unaudited.
 *
 * It is `client.withOptions()` with its `fetch` wrapped: each HTTP attempt passes through
 * untouched while a copy of its answer is read for the record, and retries belong to one call.
 * Other requests (models, files, ...) are not recorded. Recording never delays or fails a call:
 * see `AuditOptions.onLedgerError`; `flushAudit(client)` waits for pending records.
 */
export function auditOpenAI<C extends OpenAI>(client: C, ledger: Pick<Ledger, 'record'>, options: AuditOptions = {}): C {
  if (auditorOf(client)) throw new TypeError('llm-ledger: this OpenAI client is already audited; audit the original client once');
  const auditor = new Auditor(ledger, options, (requestOptions) => openAITarget(requestOptions));
  // `fetch` is private in the SDK's types but a plain field: wrapping it keeps an application's own fetch.
  const current = (client as unknown as { fetch?: unknown }).fetch;
  const fetch = typeof current === 'function' ? (current as Fetch) : globalThis.fetch;
  const retap = (opts: object): object => {
    const own = (opts as { fetch?: unknown }).fetch;
    return typeof own === 'function' ? { ...opts, fetch: tapFetch(own as Fetch) } : opts;
  };
  return instrument(client.withOptions({ fetch: tapFetch(fetch) }), auditor, retap);
}

function openAITarget(requestOptions: unknown): AuditTarget | undefined {
  const target = requestTarget(requestOptions);
  const adapter = target && target.method === 'post' ? ENDPOINTS.get(target.path) : undefined;
  return adapter && target ? { adapter, path: target.path } : undefined;
}

/** A fetch that hands each attempt of an audited call to that call, and everything else straight through. */
function tapFetch(inner: Fetch): Fetch {
  return (input, init) => {
    const call = currentCall.getStore();
    const send = () => inner.call(undefined, input, init);
    return call ? call.attempt(input, init ?? {}, send) : send();
  };
}

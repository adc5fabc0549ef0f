import { AuditedCall, currentCall } from './audited-call.js';
import type { Auditor } from './auditor.js';

/** What both SDKs' clients have in common, and all the wrapper touches. */
interface SdkClient {
  request(options: unknown, remainingRetries?: number | null): unknown;
  withOptions(options: object): SdkClient;
}

const auditors = new WeakMap<object, Auditor>();

/** The auditor of a client returned by `auditOpenAI` / `auditAnthropic` (or one of its `withOptions` clones). */
export function auditorOf(client: object): Auditor | undefined {
  return auditors.get(client);
}

/**
 * Makes every API call of `client` (an instance of its own, made by `withOptions`) one audited
 * call. `request()` is where each SDK method, helper and retry loop begins, once per logical
 * call: the override runs the SDK's own `request()` inside the call's async context and returns
 * its result untouched (the same `APIPromise`, with `withResponse`, `asResponse` and streams).
 * Clones made later by `withOptions` are audited too; `retap` keeps the tap in their options.
 */
export function instrument<C extends object>(client: C, auditor: Auditor, retap: (options: object) => object): C {
  const sdk = client as unknown as SdkClient;
  const request = sdk.request;
  const withOptions = sdk.withOptions;
  if (typeof request !== 'function' || typeof withOptions !== 'function') {
    throw new TypeError(
      'llm-ledger: this SDK client has no request() and withOptions(); the SDK wrappers need openai 5 or newer, or @anthropic-ai/sdk 0.50 or newer',
    );
  }
  define(client, 'request', function auditedRequest(this: SdkClient, options: unknown, remainingRetries?: number | null): unknown {
    const call = new AuditedCall(auditor, options);
    const result = currentCall.run(call, () => request.call(this, options, remainingRetries));
    auditor.track(call.finish(finalResponse(result)));
    return result;
  });
  define(client, 'withOptions', function auditedWithOptions(this: SdkClient, options: object): SdkClient {
    return instrument(withOptions.call(this, retap(options)), auditor, retap);
  });
  auditors.set(client, auditor);
  return client;
}

function define(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
}

/**
 * The call's final HTTP response, after the SDK's retries, without parsing its body (which would
 * spend it before `asResponse()` callers get it). Both SDKs keep it as the `APIPromise`'s
 * `responsePromise`; `asResponse()` gives the same, but on a traced Anthropic client ends the
 * call's span early, so it is only the fallback.
 */
function finalResponse(result: unknown): Promise<unknown> {
  try {
    const held = (result as { responsePromise?: unknown } | undefined)?.responsePromise;
    if (isThenable(held)) return Promise.resolve(held);
    const asResponse = (result as { asResponse?: unknown } | undefined)?.asResponse;
    if (typeof asResponse === 'function') return Promise.resolve((asResponse as () => unknown).call(result));
    return Promise.resolve(result);
  } catch (error) {
    // Whatever happens here stays with the record, never with the caller.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

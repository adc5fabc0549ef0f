import { AsyncLocalStorage } from 'node:async_hooks';
import { readJson } from '../providers/json-fields.js';
import type { LedgerErrorInfo } from './options.js';
import type { Auditor, AuditTarget } from './auditor.js';
import { sdkCallRecord } from './call-record.js';
import { observeAnswer, type ObservedAnswer } from './observe-answer.js';
import { isAbort } from './sdk-errors.js';

/**
 * The logical call an HTTP attempt belongs to. The SDK's retry loop and its fetch run inside the
 * `request()` that started the call, so its async context carries the call to every attempt, and
 * retries land on the same call instead of becoming calls of their own.
 */
export const currentCall = new AsyncLocalStorage<AuditedCall>();

/** The parts of a `fetch` request an attempt reads. */
export interface AttemptRequest {
  body?: unknown;
  headers?: unknown;
  signal?: AbortSignal | null;
}

type Url = string | URL | { url: string };

/** One SDK `request()`: its HTTP attempts, and the record written when it is over. */
export class AuditedCall {
  private readonly startedAt = performance.now();
  private readonly target: Promise<AuditTarget | undefined>;
  /** The caller's signal (or a stream helper's), to tell an abort from a failure. */
  private signal: AbortSignal | null | undefined;
  private attempts = 0;
  private params: unknown;
  private apiKey: string | undefined;
  /** The latest attempt's answer, read from a copy; undefined while none arrived (or the attempt threw). */
  private answer: Promise<ObservedAnswer> | undefined;

  constructor(
    private readonly auditor: Auditor,
    requestOptions: unknown,
  ) {
    this.target = Promise.resolve(requestOptions).then(
      (resolved) => {
        this.signal = (resolved as { signal?: AbortSignal | null } | undefined)?.signal;
        return auditor.targetOf(resolved);
      },
      () => undefined,
    );
  }

  /**
   * One HTTP attempt: sent unchanged by `send`, its response handed back unchanged (the SDK reads
   * it as always), and a copy of it read for the record. `send`'s own errors pass through as they are.
   */
  async attempt(url: Url, request: AttemptRequest, send: () => Promise<Response>): Promise<Response> {
    const target = await this.target;
    if (!target || !pathOf(url).endsWith(target.path)) return send();
    this.attempts += 1;
    this.answer = undefined;
    if (this.attempts === 1) {
      this.params = readJson(request.body);
      this.apiKey = apiKeyOf(request.headers);
    }
    const response = await send();
    try {
      this.answer = observeAnswer(target.adapter, response, this.startedAt, request.signal);
    } catch (error) {
      this.auditor.report(error, infoOf(target, this.params));
    }
    return response;
  }

  /**
   * Records the call once `outcome` (the SDK's final response, after retries) settles and the
   * answer's body has been read to its end or cut off. Never rejects: a failure to record goes to
   * `onLedgerError`, never to the caller.
   */
  async finish(outcome: Promise<unknown>): Promise<void> {
    const target = await this.target;
    if (!target) return;
    const thrown = await outcome.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    try {
      const observed = await this.answer;
      const answer = observed && settleCut(observed, this.signal?.aborted === true);
      const aborted = thrown ? isAbort(thrown.error, this.signal) : answer?.ending === 'aborted';
      const request = { provider: target.adapter.provider, endpoint: target.adapter.endpoint, params: this.params };
      const info = infoOf(target, this.params);
      const context = this.auditor.contextFor(request, this.apiKey, info);
      const finished = {
        adapter: target.adapter,
        params: this.params,
        ...(answer ? { answer } : {}),
        ...(thrown ? { thrown } : {}),
        aborted,
        attempts: this.attempts,
        latencyMs: performance.now() - this.startedAt,
      };
      await this.auditor.record(sdkCallRecord(finished, context, this.auditor.pricing), info);
    } catch (error) {
      this.auditor.report(error, infoOf(target, this.params));
    }
  }
}

/**
 * Who cut an answer short. A stream the caller stopped (abort, `break`) before its end marker is
 * aborted, and one stopped after it is complete. A plain answer stopped while the caller's signal
 * is untouched was the SDK giving up on it (its timeout): a failure. An answer that reported an
 * error was stopped by the SDK because of that error, which is what the record tells. So was a
 * stream stopped, the caller's signal untouched, when all that had arrived was data that is not
 * JSON: the caller had no event yet to `break` on, and the SDK stops at such data (the OpenAI SDK
 * throws and aborts its request), so the record tells the invalid answer, not an abort.
 */
function settleCut(answer: ObservedAnswer, callerAborted: boolean): ObservedAnswer {
  if (answer.ending !== 'aborted') return answer;
  if (answer.response.error) return { ...answer, ending: 'complete' };
  if (answer.unreadable && !callerAborted) return { ...answer, response: answer.unreadable, ending: 'complete' };
  const stream = answer.response.stream;
  if (stream) return stream.completed ? { ...answer, ending: 'complete' } : answer;
  return callerAborted ? answer : { ...answer, ending: 'broken' };
}

function pathOf(url: Url): string {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;
  try {
    return new URL(href).pathname;
  } catch {
    return href;
  }
}

/** The key the attempt was sent with (Anthropic's `x-api-key`, else a bearer token); the ledger keeps only its hash and prefix. */
function apiKeyOf(headers: unknown): string | undefined {
  try {
    const all = new Headers(headers as ConstructorParameters<typeof Headers>[0]);
    const key = all.get('x-api-key') ?? /^Bearer\s+(\S+)$/i.exec(all.get('authorization') ?? '')?.[1];
    return key === undefined || key === null || key === '' ? undefined : key;
  } catch {
    return undefined;
  }
}

function infoOf(target: AuditTarget, params: unknown): LedgerErrorInfo {
  const model = (params as { model?: unknown } | undefined)?.model;
  return { provider: target.adapter.provider, endpoint: target.adapter.endpoint, ...(typeof model === 'string' ? { model: model.slice(0, 256) } : {}) };
}

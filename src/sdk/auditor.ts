import type { Ledger } from '../ledger/ledger.js';
import { createPricing, type Pricing } from '../providers/pricing.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { RecordInput } from '../record/types.js';
import type { CallContext } from './call-record.js';
import { warnLedgerError, type AuditedRequest, type AuditOptions, type LedgerErrorInfo, type PerRequest } from './options.js';

/** Which wire format a request speaks, and the URL path its HTTP attempts go to. */
export interface AuditTarget {
  adapter: ProviderAdapter;
  /** The SDK's request path (`/chat/completions`, `/v1/messages`): attempts to other URLs (token exchanges) are not the call. */
  path: string;
}

/** Where a wrapper sends what it saw: one per `auditOpenAI` / `auditAnthropic`, shared by the clones of its client. */
export class Auditor {
  private readonly pending = new Set<Promise<void>>();
  readonly pricing: Pricing;

  constructor(
    private readonly ledger: Pick<Ledger, 'record'>,
    private readonly options: AuditOptions,
    /** The target of a request, from the SDK's request options; undefined for requests that are not LLM calls. */
    readonly targetOf: (requestOptions: unknown) => AuditTarget | undefined,
  ) {
    this.pricing = options.pricing ?? createPricing();
  }

  /** Keeps a call's recording in view until it is done, so `flush` can wait for it. `work` must never reject. */
  track(work: Promise<void>): void {
    const tracked: Promise<void> = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Waits until every call started so far is recorded (or its failure reported). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Tells the application a record failed; a throwing handler is ignored, as the caller's request must not fail. */
  report(error: unknown, call: LedgerErrorInfo): void {
    try {
      (this.options.onLedgerError ?? warnLedgerError)(error, call);
    } catch {
      // The handler's own failure has nowhere safer to go.
    }
  }

  async record(input: RecordInput, call: LedgerErrorInfo): Promise<void> {
    try {
      const receipt = await this.ledger.record(input);
      this.options.onRecorded?.(receipt);
    } catch (error) {
      this.report(error, call);
    }
  }

  /** The options' values for one request; an option function that throws is reported and its field left out. */
  contextFor(request: AuditedRequest, apiKey: string | undefined, call: LedgerErrorInfo): CallContext {
    const pick = <T>(value: PerRequest<T> | undefined): T | undefined => {
      if (typeof value !== 'function') return value;
      try {
        return (value as (request: AuditedRequest) => T | undefined)(request);
      } catch (error) {
        this.report(error, call);
        return undefined;
      }
    };
    const { options } = this;
    return {
      provider: options.provider ?? request.provider,
      ...(options.recordApiKey === false || apiKey === undefined ? {} : { apiKey }),
      user: pick(options.user),
      tenant: pick(options.tenant),
      session: pick(options.session),
      conversation: pick(options.conversation),
      traceId: pick(options.traceId),
      requestId: pick(options.requestId),
      capture: pick(options.capture),
      metadata: pick(options.metadata),
    };
  }
}

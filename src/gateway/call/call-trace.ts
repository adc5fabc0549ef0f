import { millis } from '../../providers/record-fields.js';
import type { CallEvent, RecordInput } from '../../record/types.js';

/** Who did what in a trace: the gateway itself, its policy engine, its router, or human review. */
export type TraceComponent = 'gateway' | 'policy' | 'router' | 'review';

/** Who a call is for, read when its events are written as records of their own (see `takeRecords`). */
export interface TraceSubject {
  traceId: string;
  requestId: string;
  user?: string;
  tenant?: string;
  session?: string;
  conversation?: string;
  endpoint: string;
  apiKey?: string;
}

type EventFacts = Omit<CallEvent, 'type' | 'at' | 'component'>;

/**
 * The events of one call's trace (request received, policies evaluated, routing attempts, ...),
 * each stamped with its offset from the call's start when it happens and held until the call hands
 * them to the ledger: inside its `llm.call` record when it ends (one leaf, proven with it), or, before
 * a review waits, as records of their own, so what led to the review is committed before anyone is
 * asked. The client's answer never waits for an event to be sealed.
 */
export class CallTrace {
  private pending: CallEvent[] = [];
  /** Wall-clock milliseconds at the call's start, for events written as records of their own. */
  private readonly startedAtMs: number;

  /** `startedAt`: `performance.now()` when the request arrived. */
  constructor(
    private readonly startedAt: number,
    private readonly subject: () => TraceSubject,
  ) {
    this.startedAtMs = Date.now() - (performance.now() - startedAt);
  }

  /** The wall-clock time `ms` milliseconds after the call's start. */
  timeAfter(ms: number): Date {
    return new Date(Math.round(this.startedAtMs + ms));
  }

  event(type: string, component: TraceComponent, facts: EventFacts = {}): void {
    this.pending.push({ type, at: millis(performance.now() - this.startedAt) ?? 0, component, ...facts });
  }

  /** The events not yet handed to the ledger, oldest first, for the call's record; the trace is then empty again. */
  take(): CallEvent[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  /** As `take`, each event a record of its own (kind `event`), with the call's ids and its own time. */
  takeRecords(): RecordInput[] {
    const { traceId, requestId, endpoint, apiKey, ...who } = this.subject();
    return this.take().map(({ type, at, ...facts }) => {
      const input: RecordInput = { kind: 'event', eventType: type, traceId, requestId, timestamp: this.timeAfter(at), ...facts };
      for (const [key, value] of Object.entries(who)) if (value !== undefined) (input as Record<string, unknown>)[key] = value;
      if (type === 'request_received') {
        input.endpoint ??= endpoint;
        if (apiKey !== undefined) input.apiKey = apiKey;
      }
      return input;
    });
  }
}

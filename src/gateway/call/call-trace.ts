import type { RecordInput } from '../../record/types.js';

/** Who did what in a trace: the gateway itself, its policy engine, its router, or human review. */
export type TraceComponent = 'gateway' | 'policy' | 'router' | 'review';

/** The identifying fields every event of one call carries, read when each event happens. */
export interface TraceSubject {
  traceId: string;
  requestId: string;
  user?: string;
  tenant?: string;
  session?: string;
  conversation?: string;
}

/**
 * The events of one call's trace (request received, policies evaluated, routing attempts, ...),
 * each stamped when it happens and held until the call hands them to the ledger: all at once
 * when it ends, or before a review waits. The ledger keeps them in this order, so a trace reads
 * as the call went, and the client's answer never waits for an event to be sealed.
 */
export class CallTrace {
  private pending: RecordInput[] = [];

  constructor(private readonly subject: () => TraceSubject) {}

  event(eventType: string, component: TraceComponent, facts: Omit<RecordInput, 'kind' | 'eventType' | 'component'> = {}): void {
    const { traceId, requestId, user, tenant, session, conversation } = this.subject();
    const input: RecordInput = { kind: 'event', eventType, component, traceId, requestId, timestamp: new Date(), ...facts };
    if (user !== undefined) input.user = user;
    if (tenant !== undefined) input.tenant = tenant;
    if (session !== undefined) input.session = session;
    if (conversation !== undefined) input.conversation = conversation;
    this.pending.push(input);
  }

  /** Adds a record that is not an event (the call's own `llm.call` record) in its place in the trace. */
  add(input: RecordInput): void {
    this.pending.push(input);
  }

  /** The records not yet handed to the ledger, oldest first; the trace is then empty again. */
  take(): RecordInput[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}

import type { RecordInput } from '../../record/types.js';

/** How long one turn of the event loop may spend handing calls over before requests get their turn. */
const TURN_BUDGET_MS = 0.25;
/** With more calls than this waiting, a turn hands over all of them: under load the queue must not grow without bound. */
const MAX_WAITING_CALLS = 256;

/**
 * With batched durability, the records of finished calls wait here up to `windowMs` and are then
 * handed to the ledger together, call after call, in the order the calls ended. Handed over one
 * call at a time as each ended, their validation and sealing ran between requests with cold
 * caches, and at low traffic the writer committed each call's records alone (a commit per call);
 * gathered for 5 ms, the gateway spent a fifth to a third less CPU a call at low traffic and
 * answered sooner (docs/performance.md, Gateway overhead). A long group is handed over across several turns
 * of the event loop, so requests arriving meanwhile wait for one slice of it at most.
 */
export class RecordWindow {
  private waiting: (readonly RecordInput[])[] = [];
  /** Set from the first call of a group until the group is handed over. */
  private handedOver: (() => void) | undefined;

  constructor(
    private readonly windowMs: number,
    /** Hands one call's records to the ledger; must not throw. */
    private readonly handOver: (records: readonly RecordInput[]) => void,
    /** Told of each group until it is handed over, so a shutdown waits for it. */
    private readonly track: (group: Promise<void>) => void,
  ) {}

  add(records: readonly RecordInput[]): void {
    this.waiting.push(records);
    if (this.handedOver) return;
    this.track(new Promise((resolve) => (this.handedOver = resolve)));
    setTimeout(this.drain, this.windowMs);
  }

  private readonly drain = (): void => {
    const deadline = performance.now() + TURN_BUDGET_MS;
    let next = 0;
    do this.handOver(this.waiting[next++]!);
    while (next < this.waiting.length && (this.waiting.length - next > MAX_WAITING_CALLS || performance.now() < deadline));
    this.waiting.splice(0, next);
    if (this.waiting.length > 0) {
      setImmediate(this.drain);
      return;
    }
    const done = this.handedOver!;
    this.handedOver = undefined;
    done();
  };
}

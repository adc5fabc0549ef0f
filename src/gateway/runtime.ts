import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ledger } from '../ledger/ledger.js';
import type { ProviderName } from '../providers/types.js';
import type { RecordInput } from '../record/types.js';
import { ReviewDesk } from '../review/desk.js';
import { RecordWindow } from './call/record-window.js';
import type { GatewaySettings } from './settings.js';
import { UpstreamClient } from './call/upstream.js';
import { gatewayErrorBody, type GatewayError } from './http/wire-errors.js';

/** A request being served, which a shutdown may have to cut off. */
export interface ActiveExchange {
  /** Ends the exchange now: the upstream call is cancelled and the call is recorded as aborted. */
  abort(): void;
}

/** How much longer than `store.append_timeout_ms` a sync answer waits for its records: the store's own limit normally fires first, with its own reason. */
const ANSWER_MARGIN_MS = 250;

/** Requests refused while the store was down (fail closed), recorded once it is back. */
interface Refusals {
  count: number;
  first: string;
  last: string;
}

/**
 * What every request shares: the ledger, the settings, the upstream connections, and the
 * bookkeeping a graceful shutdown needs (requests in flight, records not yet committed).
 */
export class GatewayRuntime {
  readonly upstream = new UpstreamClient();
  readonly active = new Set<ActiveExchange>();
  /** Requests received and not yet answered (or cut off), whatever stage they are at. */
  private openRequests = 0;
  /** Records being written, and work waiting to build them: a shutdown waits for all of it. */
  private readonly pending = new Set<Promise<unknown>>();
  private refusals: Refusals | undefined;
  /** Records that could not be written, since start: each is also reported in a log line. */
  failedRecords = 0;
  /** Reviews of escalated calls: the ones this gateway holds, and every one in the ledger. */
  readonly reviews: ReviewDesk;
  /** Batched durability: where finished calls' records wait to be sealed together. */
  private readonly window: RecordWindow | undefined;
  /** Record writes not yet settled, each with when it began (performance.now()); oldest first, as Sets keep insertion order. */
  private readonly writing = new Set<{ since: number }>();

  constructor(
    readonly ledger: Ledger,
    readonly settings: GatewaySettings,
    readonly log: (line: string) => void,
    /** `store.append_timeout_ms`: how long a record write may take before the store counts as failing here. */
    readonly appendTimeoutMs = 5000,
  ) {
    this.reviews = new ReviewDesk(ledger, { pollIntervalMs: settings.reviewPollIntervalMs });
    if (settings.durability === 'batched' && settings.batchWindowMs > 0) {
      this.window = new RecordWindow(
        settings.batchWindowMs,
        (list) => void this.write(list),
        (group) => this.awaitOnStop(group),
      );
    }
  }

  /**
   * Records a call's records (its trace events and `llm.call`, in order) as `durability` says.
   * `sync`: resolves once they are committed (or spooled), false if they could not be written,
   * and the caller then withholds the answer. `batched`: resolves true at once; they are written
   * in the background, gathered with other calls' for `batch_window_ms` first.
   */
  record(inputs: RecordInput | readonly RecordInput[]): Promise<boolean> {
    const list = Array.isArray(inputs) ? (inputs as readonly RecordInput[]) : [inputs as RecordInput];
    if (this.settings.durability === 'sync') return this.write(list);
    if (this.window) this.window.add(list);
    else void this.write(list);
    return Promise.resolve(true);
  }

  /**
   * Hands records to the ledger; resolves with whether they were written (or spooled). Failing
   * closed with sync durability, an answer waits for its records no longer than
   * `store.append_timeout_ms` (and a margin): records still queued in the ledger by then (behind
   * batches of a store that stopped answering) count as not written, and the answer is withheld.
   */
  private write(list: readonly RecordInput[]): Promise<boolean> {
    const began = { since: performance.now() };
    this.writing.add(began);
    const recording = list.length === 1 ? this.ledger.record(list[0]!) : this.ledger.recordAll(list);
    // Taken now, so that the records themselves need not live until the commit (see Ledger.submit).
    const count = list.length;
    const requestId = list.find((input) => input.requestId !== undefined)?.requestId ?? '?';
    const tracked = recording.then(
      () => true,
      (err: Error) => {
        this.failedRecords += count;
        this.log(`llm-ledger gateway: the record${count === 1 ? '' : 's'} of request ${requestId} could not be written: ${err.message}`);
        return false;
      },
    );
    void tracked.finally(() => this.writing.delete(began));
    this.awaitOnStop(tracked);
    if (this.settings.durability !== 'sync' || this.settings.onStoreFailure !== 'fail_closed') return tracked;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log(
          `llm-ledger gateway: the record${count === 1 ? '' : 's'} of request ${requestId} ${count === 1 ? 'was' : 'were'} not written within ${this.appendTimeoutMs} ms (store.append_timeout_ms): the answer is withheld`,
        );
        resolve(false);
      }, this.appendTimeoutMs + ANSWER_MARGIN_MS);
      void tracked.then((written) => {
        clearTimeout(timer);
        resolve(written);
      });
    });
  }

  /**
   * When the oldest record write still pending began (ISO 8601), if that is longer ago than
   * `store.append_timeout_ms`: the store takes records no longer, though none has failed yet (a
   * store without a limit of its own, or records queued behind batches that have not timed out).
   */
  stalledSince(): string | undefined {
    const oldest = this.writing.values().next().value;
    if (!oldest || performance.now() - oldest.since <= this.appendTimeoutMs) return undefined;
    return new Date(Date.now() - (performance.now() - oldest.since)).toISOString();
  }

  /** Whether the store takes records: no failed append since the last that succeeded, and no write pending past its limit. */
  storeAvailable(): boolean {
    return this.ledger.storeHealth().available && this.stalledSince() === undefined;
  }

  /**
   * Runs `work` on the next turn of the event loop, after what was just written to a client has
   * left (Node sends writes on the next tick), and counts it as pending until it is done, so a
   * shutdown waits for it. For reading an answer and sealing its records once it is sent.
   */
  afterAnswer(work: () => unknown): void {
    this.awaitOnStop(
      new Promise((resolve) => setImmediate(resolve)).then(work).catch((err: Error) => {
        this.log(`llm-ledger gateway: recording a call failed inside the gateway: ${err.message}`);
      }),
    );
  }

  private awaitOnStop(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** With fail_closed, no upstream call is made while the ledger cannot record it. */
  refusesTraffic(): boolean {
    if (this.settings.onStoreFailure !== 'fail_closed') return false;
    const available = this.storeAvailable();
    if (available && this.refusals) this.recordRefusals();
    return !available;
  }

  /** Counts a refused request; the count is recorded as a `requests_refused` event when the store is back. */
  refused(): void {
    const now = new Date().toISOString();
    if (this.refusals) {
      this.refusals.count++;
      this.refusals.last = now;
    } else {
      this.refusals = { count: 1, first: now, last: now };
    }
  }

  private recordRefusals(): void {
    const refusals = this.refusals!;
    this.refusals = undefined;
    void this.record({
      kind: 'event',
      eventType: 'requests_refused',
      component: 'gateway',
      status: 'blocked',
      metadata: {
        count: refusals.count,
        first: refusals.first,
        last: refusals.last,
        reason: 'ledger store unavailable (gateway.on_store_failure: fail_closed)',
      },
    });
  }

  /** Answers with an error of the gateway's own, in the endpoint's wire format. */
  sendError(res: ServerResponse, format: ProviderName, error: GatewayError, extraHeaders: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = gatewayErrorBody(format, error);
    res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extraHeaders });
    res.end(body);
  }

  /** Counts a request until its connection is done with it. */
  track(res: ServerResponse): void {
    this.openRequests++;
    res.once('close', () => this.openRequests--);
  }

  /** Waits up to `timeoutMs` for every request in flight to be answered; then cuts off upstream calls still running. */
  async finishRequests(timeoutMs: number): Promise<void> {
    await this.until(() => this.openRequests === 0, timeoutMs);
    for (const exchange of [...this.active]) exchange.abort();
  }

  /** Once connections are closed: waits for the last requests to notice, then for every record to be written. */
  async settle(): Promise<void> {
    await this.until(() => this.openRequests === 0, 1000);
    if (this.refusals && this.ledger.storeHealth().available) this.recordRefusals();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a request body up to `maxBytes`; more is refused before it is all read. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too large' | 'aborted'> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      resolve('too large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: Buffer | 'too large' | 'aborted') => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        settle('too large');
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', () => settle('aborted'));
    req.on('close', () => settle(req.complete ? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) : 'aborted'));
  });
}

import type { Ledger, RevealResult } from '../ledger/ledger.js';
import type { LoggedRecord, RecordInput } from '../record/types.js';
import { CREATED, createdRecord, DECIDED, decidedRecord, firstDecision, isReviewRecord, reviewOf } from './records.js';
import type { DecisionInput, Review, ReviewRequest, ReviewStatus } from './types.js';

export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  constructor(
    message: string,
    /** `not_found`: no such review. `conflict`: already decided or expired. `no_content`: capture kept nothing to reveal. */
    readonly kind: 'not_found' | 'conflict' | 'no_content',
  ) {
    super(message);
  }
}

export interface ListOptions {
  status?: ReviewStatus | 'all';
  /** At most this many reviews, newest first (default 50). */
  limit?: number;
}

/** Reviews scanned at most per listing, newest first: enough for any real queue. */
const MAX_SCANNED = 5000;

interface Waiter {
  resolve(review: Review): void;
}

/**
 * Human review of escalated calls, kept in the ledger (see records.ts). The gateway opens
 * reviews and waits on the ones it holds; reviewers list, read and decide them through the
 * gateway's review API or the CLI. A decision wakes a waiter in this process at once; one taken
 * through another instance is found by polling the ledger.
 */
export class ReviewDesk {
  private readonly waiters = new Map<string, Waiter>();
  /** Decisions being written, per review: one at a time, so this process never writes two. */
  private readonly deciding = new Map<string, Promise<Review>>();

  constructor(
    private readonly ledger: Ledger,
    private readonly options: { pollIntervalMs: number; now?: () => number },
  ) {}

  /**
   * Opens a review. `before`: the call's trace events so far, recorded first, in order, so the
   * trace reads as it happened. Resolves once everything is committed, with the review's id.
   */
  async open(request: ReviewRequest, before: readonly RecordInput[] = []): Promise<string> {
    const receipts = await this.ledger.recordAll([...before, createdRecord(request)]);
    return receipts.at(-1)!.id;
  }

  async get(id: string): Promise<Review | undefined> {
    const created = await this.ledger.get(id);
    if (!isReviewRecord(created)) return undefined;
    return this.reviewOf(created);
  }

  /** Newest first. */
  async list(options: ListOptions = {}): Promise<Review[]> {
    const { status = 'pending', limit = 50 } = options;
    const out: Review[] = [];
    let cursor: string | undefined;
    let scanned = 0;
    do {
      const page = await this.ledger.search({ kind: 'event', eventType: CREATED, limit: 200, ...(cursor === undefined ? {} : { cursor }) });
      for (const record of page.records) {
        const review = await this.reviewOf(record);
        if (status === 'all' || review.status === status) out.push(review);
        if (out.length >= limit) return out;
      }
      scanned += page.records.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined && scanned < MAX_SCANNED);
    return out;
  }

  /**
   * Records a decision on a pending review. The first decision in log order is the one that
   * counts: if two instances decide at once, the later record is kept (nothing is ever removed)
   * but changes nothing, and the caller is told what the review's decision is.
   */
  decide(id: string, decision: DecisionInput, flags: { timedOut?: boolean; clientGone?: boolean } = {}): Promise<Review> {
    const previous = this.deciding.get(id) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.decideNow(id, decision, flags));
    this.deciding.set(id, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.deciding.get(id) === next) this.deciding.delete(id);
      });
    return next;
  }

  /**
   * Waits for the decision on a review this process holds, up to `timeoutMs`; then rejects it
   * as timed out (that decision is recorded like any other). `cancel` ends the wait early, for
   * a client that went away or a gateway that stops: the review is then rejected, with the
   * signal's reason when it is a string.
   */
  awaitDecision(id: string, timeoutMs: number, cancel?: AbortSignal): Promise<Review> {
    return new Promise<Review>((resolve, reject) => {
      let settled = false;
      const finish = (review: Review) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearInterval(poll);
        cancel?.removeEventListener('abort', onCancel);
        this.waiters.delete(id);
        resolve(review);
      };
      const closeWith = (decision: DecisionInput, flags: { timedOut?: boolean; clientGone?: boolean }) => {
        if (settled) return;
        this.decide(id, decision, flags).then(finish, (err: unknown) => {
          if (err instanceof ReviewError && err.kind === 'conflict') void this.get(id).then((review) => review && finish(review), reject);
          else if (!settled) {
            settled = true;
            clearInterval(poll);
            this.waiters.delete(id);
            reject(err as Error);
          }
        });
      };
      const onCancel = () => {
        const reason = typeof cancel?.reason === 'string' ? cancel.reason : 'the client went away before a decision';
        closeWith({ decision: 'rejected', reviewer: 'llm-ledger', reason }, { clientGone: true });
      };
      this.waiters.set(id, { resolve: finish });
      const deadline = setTimeout(
        () => closeWith({ decision: 'rejected', reviewer: 'llm-ledger', reason: `no decision within ${timeoutMs} ms` }, { timedOut: true }),
        timeoutMs,
      );
      // Decisions taken through another gateway instance reach this one only through the ledger.
      const poll = setInterval(() => {
        void this.get(id).then(
          (review) => {
            if (review?.decision) finish(review);
          },
          () => undefined,
        );
      }, this.options.pollIntervalMs);
      if (cancel?.aborted) onCancel();
      else cancel?.addEventListener('abort', onCancel, { once: true });
    });
  }

  /** Decrypts the content under review for a reviewer allowed to see it; the reading is recorded first. */
  async reveal(id: string, access: { reviewer: string; reason: string }): Promise<RevealResult> {
    const review = await this.get(id);
    if (!review) throw new ReviewError(`no review with id ${id}`, 'not_found');
    if (!review.contentStored)
      throw new ReviewError(`review ${id} kept no content to reveal: the capture mode at the time kept at most digests of it`, 'no_content');
    return this.ledger.reveal(id, { actor: access.reviewer, reason: access.reason });
  }

  private async decideNow(id: string, decision: DecisionInput, flags: { timedOut?: boolean; clientGone?: boolean }): Promise<Review> {
    const created = await this.ledger.get(id);
    if (!isReviewRecord(created)) throw new ReviewError(`no review with id ${id}`, 'not_found');
    const current = await this.reviewOf(created);
    if (current.status !== 'pending') {
      const by = current.decision ? ` by ${current.decision.reviewer} at ${current.decision.decidedAt}` : '';
      throw new ReviewError(`review ${id} is already ${current.status}${by}`, 'conflict');
    }
    await this.ledger.record(decidedRecord(created, decision, flags));
    const review = (await this.reviewOf(created))!;
    this.waiters.get(id)?.resolve(review);
    return review;
  }

  private async reviewOf(created: LoggedRecord): Promise<Review> {
    const decisions = (await this.ledger.search({ traceId: created.envelope.traceId, eventType: DECIDED, limit: 1000 })).records;
    // Search answers newest first; the first decision in log order counts.
    return reviewOf(created, firstDecision(created.envelope.id, [...decisions].reverse()), (this.options.now ?? Date.now)());
  }
}

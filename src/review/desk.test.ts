import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../ledger/ledger.js';
import { openTestLedger, tempDir } from '../ledger/test-support/fixtures.js';
import { ReviewDesk, ReviewError } from './desk.js';
import type { ReviewRequest } from './types.js';

const request = (overrides: Partial<ReviewRequest> = {}): ReviewRequest => ({
  traceId: 'a'.repeat(32),
  requestId: 'req-1',
  checkpoint: 'request',
  policy: 'codenames',
  reason: 'text matching its patterns in the prompt: falcon ×1',
  mode: 'hold',
  timeoutMs: 60_000,
  user: 'alice',
  content: { input: 'user: tell me about project falcon' },
  ...overrides,
});

describe('ReviewDesk', () => {
  let dir: string;
  let ledger: Ledger;
  let desk: ReviewDesk;

  beforeEach(async () => {
    dir = tempDir('llm-ledger-review-');
    ledger = await openTestLedger(dir);
    desk = new ReviewDesk(ledger, { pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await ledger.close();
  });

  it('opens a review in the log after the events given, and lists it as pending', async () => {
    const id = await desk.open(request(), [
      { kind: 'event', eventType: 'request_received', component: 'gateway', traceId: 'a'.repeat(32), requestId: 'req-1' },
    ]);
    expect((await ledger.trace('a'.repeat(32))).map((r) => r.envelope.eventType)).toEqual(['request_received', 'review_created']);
    expect(await desk.get(id)).toMatchObject({
      id,
      status: 'pending',
      policy: 'codenames',
      mode: 'hold',
      user: 'alice',
      checkpoint: 'request',
      contentStored: false,
    });
    expect((await desk.list()).map((r) => r.id)).toEqual([id]);
  });

  it('records a decision naming the reviewer, wakes the waiter, and refuses a second decision', async () => {
    const id = await desk.open(request());
    const waiting = desk.awaitDecision(id, 10_000);
    const decided = await desk.decide(id, { decision: 'approved', reviewer: 'bob', reason: 'public information' });
    expect(decided.status).toBe('approved');
    await expect(waiting).resolves.toMatchObject({ status: 'approved', decision: { reviewer: 'bob', reason: 'public information' } });
    await expect(desk.decide(id, { decision: 'rejected', reviewer: 'carol', reason: 'no' })).rejects.toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('already approved by bob'),
    });
    expect(await desk.list({ status: 'pending' })).toEqual([]);
    expect((await desk.list({ status: 'approved' })).map((r) => r.id)).toEqual([id]);
  });

  it('rejects a held review that nobody decides in time, saying so', async () => {
    const id = await desk.open(request());
    await expect(desk.awaitDecision(id, 30)).resolves.toMatchObject({ status: 'rejected', decision: { reviewer: 'llm-ledger', timedOut: true } });
  });

  it('finds a decision taken through another process by polling the ledger', async () => {
    const id = await desk.open(request());
    const elsewhere = new ReviewDesk(ledger, { pollIntervalMs: 20 });
    const waiting = desk.awaitDecision(id, 10_000);
    // The other desk writes straight to the ledger; this one has no waiter notification from it.
    await elsewhere.decide(id, { decision: 'rejected', reviewer: 'carol', reason: 'confidential' });
    await expect(waiting).resolves.toMatchObject({ status: 'rejected', decision: { reviewer: 'carol' } });
  });

  it('rejects the review when the wait is cancelled, with the reason given', async () => {
    const id = await desk.open(request());
    const cancel = new AbortController();
    const waiting = desk.awaitDecision(id, 10_000, cancel.signal);
    cancel.abort('the client went away before a decision');
    await expect(waiting).resolves.toMatchObject({ status: 'rejected', decision: { reason: 'the client went away before a decision' } });
  });

  it('shows a held review past its deadline with no decision as expired', async () => {
    const id = await desk.open(request({ timeoutMs: 1 }));
    const later = new ReviewDesk(ledger, { pollIntervalMs: 20, now: () => Date.now() + 60_000 });
    expect((await later.get(id))?.status).toBe('expired');
    await expect(later.decide(id, { decision: 'approved', reviewer: 'bob', reason: 'late' })).rejects.toBeInstanceOf(ReviewError);
  });

  it('says what it cannot find, and refuses to reveal what capture did not keep', async () => {
    await expect(desk.decide('0199d0c4-0000-7000-8000-000000000000', { decision: 'approved', reviewer: 'bob', reason: 'x' })).rejects.toMatchObject({
      kind: 'not_found',
    });
    const id = await desk.open(request());
    await expect(desk.reveal(id, { reviewer: 'bob', reason: 'check' })).rejects.toMatchObject({ kind: 'no_content' });
    expect(await desk.get((await ledger.record({ kind: 'event', eventType: 'other' })).id)).toBeUndefined();
  });
});

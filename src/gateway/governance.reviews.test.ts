import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_ANSWER } from '../providers/simulated/fake-scenarios.js';
import type { Review } from '../review/types.js';
import { filesContaining, startHarness, type Harness, type HarnessOptions } from './test-support/harness.js';

// Human review end to end: requests (and answers) escalated by a policy wait for a reviewer, who
// decides through the gateway's review API with a reviewer token. Each test checks the client's
// result, the exact events of the trace, and that the log verifies.

const RITA = 'rita-reviewer-token-0123456789abcdef';
const VICTOR = 'victor-reviewer-token-0123456789abcd';
const KEK = randomBytes(32).toString('hex');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function escalating(review: Record<string, unknown>, checkpoints = ['request']) {
  return { name: 'codenames', type: 'pattern', patterns: [{ name: 'codename', regex: 'falcon', flags: 'i' }], checkpoints, action: 'escalate', review };
}

async function harness(policy: Record<string, unknown>, options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({
    ...options,
    env: { RITA_TOKEN: RITA, VICTOR_TOKEN: VICTOR, LLM_LEDGER_KEK: KEK },
    gateway: {
      policies: [policy],
      review: {
        reviewers: [
          { name: 'rita', env: 'RITA_TOKEN', reveal: true },
          { name: 'victor', env: 'VICTOR_TOKEN' },
        ],
        poll_interval_ms: 50,
      },
      ...options.gateway,
    },
  });
  return h;
}

async function api(g: Harness, token: string | undefined, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${g.gateway.url}/v1/reviews${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function pendingReview(g: Harness): Promise<Review> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const { json } = await api(g, RITA, '?status=pending');
    if (json.data.length > 0) return json.data[0] as Review;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no pending review appeared');
}

type ApiError = InstanceType<typeof OpenAI.APIError>;
// The review API answers JSON whose shape each test reads as it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const ask = (content = 'Tell me about Project Falcon.') => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }] });
const CHECKPOINT = ['policy_evaluation_start', 'policy_evaluated', 'policy_evaluation_complete'];
const ESCALATED = ['request_received', ...CHECKPOINT, 'request_escalated', 'review_created', 'review_decided'];

describe('governance: human review', () => {
  it('holds an escalated request until a reviewer approves it, then answers it', async () => {
    const g = await harness(escalating({ mode: 'hold', timeout_ms: 10_000 }));
    const answer = g.openai.chat.completions.create(ask()).withResponse();
    const review = await pendingReview(g);
    expect(g.fake.requests).toEqual([]);
    expect(review).toMatchObject({
      status: 'pending',
      policy: 'codenames',
      checkpoint: 'request',
      mode: 'hold',
      reason: 'text matching its patterns in the prompt: codename ×1',
      model: 'gpt-4o',
    });
    const decided = await api(g, RITA, `/${review.id}/approve`, { reason: 'public project' });
    expect(decided).toMatchObject({
      status: 200,
      json: { status: 'approved', decision: { reviewer: 'rita', reason: 'public project', decision: 'approved' } },
    });
    const { data, response } = await answer;
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    const traceId = response.headers.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([...ESCALATED, 'routing_start', 'routing_success', 'llm.call', 'request_completed']);
    expect((await g.callFor(response.headers.get('x-request-id')!)).envelope).toMatchObject({
      status: 'success',
      metadata: { gateway: { reviewId: review.id } },
      safety: { alerts: ['codenames: text matching its patterns in the prompt: codename ×1'] },
    });
    expect(await api(g, RITA, `/${review.id}/reject`, { reason: 'too late' })).toMatchObject({ status: 409 });
    // Hash-only capture (the default): the prompt under review is nowhere but in its digests.
    await g.ledger.flush();
    expect(filesContaining(g.dir, 'Project Falcon')).toEqual([]);
    expect(JSON.stringify(await g.ledger.trace(traceId))).not.toContain('Falcon');
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('answers 403 when the reviewer rejects, without calling the upstream', async () => {
    const g = await harness(escalating({ mode: 'hold', timeout_ms: 10_000 }));
    const answer = g.openai.chat.completions.create(ask()).catch((caught: unknown) => caught as ApiError);
    const review = await pendingReview(g);
    await api(g, VICTOR, `/${review.id}/reject`, { reason: 'confidential' });
    const error = (await answer) as ApiError;
    expect(error.status).toBe(403);
    expect(error.error).toMatchObject({ type: 'review_rejected', policy: 'codenames', review_id: review.id });
    expect(g.fake.requests).toEqual([]);
    expect(await g.traceOf(error.headers!.get('x-trace-id')!)).toEqual([...ESCALATED, 'request_blocked', 'llm.call', 'request_completed']);
    expect((await api(g, VICTOR, `/${review.id}`)).json).toMatchObject({ status: 'rejected', decision: { reviewer: 'victor', reason: 'confidential' } });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('rejects a held request that no reviewer decides in time', async () => {
    const g = await harness(escalating({ mode: 'hold', timeout_ms: 200 }));
    const error = (await g.openai.chat.completions.create(ask()).catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(403);
    expect(error.message).toContain('no reviewer decided within the time allowed');
    const traceId = error.headers!.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual([...ESCALATED, 'request_blocked', 'llm.call', 'request_completed']);
    const [decided] = (await g.ledger.search({ traceId, eventType: 'review_decided' })).records;
    expect(decided!.envelope.metadata).toMatchObject({ decision: 'rejected', reviewer: 'llm-ledger', timedOut: true });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('in async mode answers 202 with the review id at once; the request sent again is answered once approved', async () => {
    const g = await harness(escalating({ mode: 'async' }));
    const first = await g.openai.chat.completions.create(ask()).withResponse();
    expect(first.response.status).toBe(202);
    const review = first.data as unknown as { id: string; status: string; object: string };
    expect(review).toMatchObject({ object: 'llm_ledger.review', status: 'pending' });
    expect(first.response.headers.get('x-llm-ledger-review-id')).toBe(review.id);
    expect(await g.traceOf(first.response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      ...CHECKPOINT,
      'request_escalated',
      'review_created',
      'llm.call',
      'request_completed',
    ]);
    expect((await g.callFor(first.response.headers.get('x-request-id')!)).envelope).toMatchObject({ status: 'escalated', httpStatus: 202 });

    const again = { headers: { 'x-llm-ledger-review-id': review.id } };
    const stillPending = await g.openai.chat.completions.create(ask(), again).withResponse();
    expect(stillPending.response.status).toBe(202);
    const other = (await g.openai.chat.completions
      .create(ask('Tell me about Project Falcon and Eagle.'), again)
      .catch((caught: unknown) => caught)) as ApiError;
    expect(other.status).toBe(400);
    expect(other.message).toContain('was opened for another prompt');

    await api(g, RITA, `/${review.id}/approve`, { reason: 'fine' });
    const answered = await g.openai.chat.completions.create(ask(), again).withResponse();
    expect(answered.response.status).toBe(200);
    expect(answered.data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(await g.traceOf(answered.response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      ...CHECKPOINT,
      'review_applied',
      'routing_start',
      'routing_success',
      'llm.call',
      'request_completed',
    ]);
    expect(g.fake.requests).toHaveLength(1);

    const stranger = new OpenAI({ apiKey: 'sk-someone-else-0123456789abcdefghijkl', baseURL: `${g.gateway.url}/v1`, maxRetries: 0 });
    expect(((await stranger.chat.completions.create(ask(), again).catch((caught: unknown) => caught)) as ApiError).status).toBe(403);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('holds an escalated answer until approved, then delivers it', async () => {
    const g = await harness({ ...escalating({ mode: 'hold', timeout_ms: 10_000 }, ['response']), patterns: [{ name: 'l-word', regex: 'ledger' }] });
    const answer = g.openai.chat.completions.create(ask('Say hello.')).withResponse();
    const review = await pendingReview(g);
    expect(review).toMatchObject({ checkpoint: 'response' });
    await api(g, RITA, `/${review.id}/approve`, { reason: 'harmless' });
    const { data, response } = await answer;
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(await g.traceOf(response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      'routing_start',
      'routing_success',
      ...CHECKPOINT,
      'response_escalated',
      'review_created',
      'review_decided',
      'llm.call',
      'request_completed',
    ]);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('lets an authorised reviewer read content that capture kept, recording the reading; others may not', async () => {
    const g = await harness(escalating({ mode: 'hold', timeout_ms: 10_000 }), { capture: { prompts: 'encrypted' } });
    const answer = g.openai.chat.completions.create(ask()).withResponse();
    const review = await pendingReview(g);
    expect(review.contentStored).toBe(true);
    expect(await api(g, VICTOR, `/${review.id}/reveal`, { reason: 'curious' })).toMatchObject({
      status: 403,
      json: { error: { message: expect.stringContaining('may not reveal') } },
    });
    const revealed = await api(g, RITA, `/${review.id}/reveal`, { reason: 'deciding' });
    expect(revealed).toMatchObject({ status: 200, json: { content: { input: 'user: Tell me about Project Falcon.' } } });
    const access = await g.ledger.get(revealed.json.access_record_id);
    expect(access!.envelope).toMatchObject({ kind: 'content_accessed', user: 'rita', metadata: { recordId: review.id, reason: 'deciding' } });
    await api(g, RITA, `/${review.id}/approve`, { reason: 'ok' });
    await answer;
  });

  it('refuses the review API without a reviewer token, and a decision without a reason', async () => {
    const g = await harness(escalating({ mode: 'async' }));
    expect((await api(g, undefined, '')).status).toBe(401);
    expect((await api(g, 'not-a-token', '')).status).toBe(401);
    const first = await g.openai.chat.completions.create(ask()).withResponse();
    const id = (first.data as unknown as { id: string }).id;
    expect(await api(g, RITA, `/${id}/approve`, {})).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('{"reason": "..."}') } } });
    expect((await api(g, RITA, '/0199d0c4-0000-7000-8000-000000000000')).status).toBe(404);
  });
});

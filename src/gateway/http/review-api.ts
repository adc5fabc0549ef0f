import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_REASON_CHARS } from '../../review/records.js';
import { ReviewError, type ListOptions } from '../../review/desk.js';
import type { Decision, ReviewStatus } from '../../review/types.js';
import { REVIEWS_PATH } from './addresses.js';
import { presentedKey } from './identity.js';
import { readBody, type GatewayRuntime } from '../runtime.js';
import type { Reviewer } from '../settings.js';

const STATUSES: readonly (ReviewStatus | 'all')[] = ['pending', 'approved', 'rejected', 'expired', 'all'];
const ACTIONS: Record<string, Decision | 'reveal'> = { approve: 'approved', reject: 'rejected', reveal: 'reveal' };

/**
 * The review API, for reviewers holding a token from `gateway.review.reviewers` (as
 * `Authorization: Bearer`): list and read reviews, approve or reject them with a reason (the
 * decision is recorded naming the reviewer), and, for reviewers allowed to, reveal the content
 * under review when capture kept it (the reading is recorded first). A thin shell over the
 * review desk; answers are JSON.
 */
export async function serveReviews(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const reviewer = reviewerOf(runtime, req);
  if (!reviewer)
    return send(res, 401, {
      error: { type: 'authentication_error', message: 'the review API needs a reviewer token from gateway.review.reviewers, as Authorization: Bearer <token>' },
    });
  const [id, action, extra] = path.slice(REVIEWS_PATH.length + 1).split('/');
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (!id && req.method === 'GET') return send(res, 200, { object: 'list', data: await runtime.reviews.list(listOptions(url)) });
    if (id && action === undefined && req.method === 'GET') {
      const review = await runtime.reviews.get(id);
      return review ? send(res, 200, review) : notFound(res, id);
    }
    const verb = action === undefined ? undefined : ACTIONS[action];
    if (!id || verb === undefined || extra !== undefined)
      return send(res, 404, {
        error: {
          type: 'not_found_error',
          message: `no such review endpoint; use GET ${REVIEWS_PATH}, GET ${REVIEWS_PATH}/{id}, POST ${REVIEWS_PATH}/{id}/approve|reject|reveal`,
        },
      });
    if (req.method !== 'POST')
      return send(res, 405, { error: { type: 'invalid_request_error', message: `${action} takes POST with {"reason": "..."}` } }, { allow: 'POST' });
    const reason = await readReason(req);
    if (typeof reason !== 'string') return send(res, 400, { error: { type: 'invalid_request_error', message: reason.problem } });
    if (verb === 'reveal') {
      if (!reviewer.reveal)
        return send(res, 403, {
          error: { type: 'permission_error', message: `reviewer ${reviewer.name} may not reveal content (gateway.review.reviewers[].reveal is false)` },
        });
      const revealed = await runtime.reviews.reveal(id, { reviewer: reviewer.name, reason });
      return send(res, 200, { id, content: revealed.content, access_record_id: revealed.accessRecordId });
    }
    return send(res, 200, await runtime.reviews.decide(id, { decision: verb, reviewer: reviewer.name, reason }));
  } catch (err) {
    if (err instanceof ReviewError) return send(res, err.kind === 'conflict' ? 409 : 404, { error: { type: err.kind, message: err.message } });
    runtime.log(`llm-ledger gateway: the review API failed: ${(err as Error).message}`);
    return send(res, 500, { error: { type: 'api_error', message: 'the review API could not complete this request; see the gateway log' } });
  }
}

function reviewerOf(runtime: GatewayRuntime, req: IncomingMessage): Reviewer | undefined {
  const token = presentedKey(req.headers);
  return token === undefined ? undefined : runtime.settings.reviewers.identify(token);
}

function listOptions(url: URL): ListOptions {
  const status = url.searchParams.get('status');
  const limit = Number(url.searchParams.get('limit') ?? 50);
  return {
    ...(status !== null && (STATUSES as readonly string[]).includes(status) ? { status: status as ListOptions['status'] & string } : {}),
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : 50,
  };
}

/** The body's `reason`: why the reviewer decides (or looks), recorded with the decision. */
async function readReason(req: IncomingMessage): Promise<string | { problem: string }> {
  const body = await readBody(req, 64 * 1024);
  const problem = { problem: `send a JSON body {"reason": "..."}: why, in 1 to ${MAX_REASON_CHARS} characters; it is recorded` };
  if (typeof body === 'string') return problem;
  try {
    const reason: unknown = (JSON.parse(body.toString('utf8')) as { reason?: unknown }).reason;
    return typeof reason === 'string' && reason.trim() !== '' && reason.length <= MAX_REASON_CHARS ? reason : problem;
  } catch {
    return problem;
  }
}

function notFound(res: ServerResponse, id: string): void {
  send(res, 404, { error: { type: 'not_found', message: `no review with id ${id.slice(0, 64)}` } });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers }).end(text);
}

import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openAIChatAdapter } from '../../providers/openai-chat.js';
import type { RoutePlan, RouteTarget } from '../governance/routing.js';
import type { GatewayRuntime } from '../runtime.js';
import type { Routed, RouteCallInput } from './attempts.js';
import type { CallState } from './call-record.js';
import { Forwarding } from './forward.js';

// Routing and recording are replaced: what is under test is which event ends the call in which state.
const mocks = vi.hoisted(() => ({
  routing: [] as { input: RouteCallInput; resolve: (routed: Routed) => void }[],
  finishCall: vi.fn(() => Promise.resolve(true)),
}));
vi.mock('./attempts.js', () => ({
  routeCall: (_runtime: unknown, input: RouteCallInput) => new Promise<Routed>((resolve) => mocks.routing.push({ input, resolve })),
}));
vi.mock('./call-finish.js', async (original) => ({ ...(await original<typeof import('./call-finish.js')>()), finishCall: mocks.finishCall }));

const TIMEOUT_MS = 60_000;

function setup(durability: 'sync' | 'batched' = 'sync') {
  const later: (() => unknown)[] = [];
  const runtime = {
    settings: { requestTimeoutMs: TIMEOUT_MS, durability, policies: { at: () => [] } },
    active: new Set(),
    sendError: vi.fn(),
    // Batched work after the answer is held here, so a test can look at the call in between.
    afterAnswer: (work: () => unknown) => later.push(work),
  } as unknown as GatewayRuntime;
  const req = Object.assign(new EventEmitter(), { url: '/v1/chat/completions', headers: {} }) as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), {
    writableFinished: false,
    headersSent: false,
    destroy: vi.fn(),
    write: vi.fn(() => true),
    end: vi.fn(),
    writeHead: vi.fn((): unknown => res),
  });
  const call = { adapter: openAIChatAdapter, context: { requestId: 'req-1', traceId: 'trace-1' }, startedAt: 0 } as unknown as CallState;
  const forwarding = new Forwarding(runtime, req, res as unknown as ServerResponse, call);
  forwarding.start({} as RoutePlan, Buffer.from('{}'), {});
  const routing = mocks.routing.at(-1)!;
  const attempt = Object.assign(new EventEmitter(), { destroy: vi.fn() });
  routing.input.onAttempt(attempt as unknown as ClientRequest, { provider: { name: 'openai' } } as unknown as RouteTarget);
  const incoming = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    complete: false,
    pause: vi.fn(),
    resume: vi.fn(),
  });
  const answer = async () => {
    routing.resolve({
      kind: 'answer',
      incoming: incoming as unknown as IncomingMessage,
      target: { provider: { name: 'openai' } } as unknown as RouteTarget,
      attempts: 1,
      exhausted: false,
    });
    await settle();
  };
  const answerEnds = () => {
    incoming.emit(
      'data',
      Buffer.from(
        JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }),
      ),
    );
    incoming.complete = true;
    incoming.emit('end');
  };
  const runLater = async () => {
    while (later.length > 0) await later.shift()!();
    await settle();
  };
  return { forwarding, runtime, res, call, routing, attempt, incoming, answer, answerEnds, runLater };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Forwarding', () => {
  beforeEach(() => {
    mocks.finishCall.mockClear();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => vi.useRealTimers());

  it('routing: an attempt failing is routing’s business; the client leaving cancels routing, and the call is recorded once as aborted', async () => {
    const { forwarding, res, call, routing, attempt, answer } = setup();
    expect(forwarding.state).toBe('routing');
    attempt.emit('error', new Error('ECONNRESET'));
    expect(forwarding.state).toBe('routing');
    expect(call.cutOff).toBeUndefined();

    res.emit('close');
    expect(forwarding.state).toBe('done');
    expect(call.status).toBe('aborted');
    expect(routing.input.signal.aborted).toBe(true);
    expect(attempt.destroy).toHaveBeenCalled();
    await settle();
    expect(res.destroy).toHaveBeenCalled();

    // An answer that arrives anyway is not relayed, and nothing is recorded twice.
    await answer();
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(forwarding.state).toBe('done');
    expect(res.writeHead).not.toHaveBeenCalled();
    expect(mocks.finishCall).toHaveBeenCalledTimes(1);
  });

  it('routing: the deadline answers 504 with a timeout error', async () => {
    const { forwarding, runtime, res, call } = setup();
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(forwarding.state).toBe('done');
    expect(call.httpStatus).toBe(504);
    await settle();
    expect(runtime.sendError).toHaveBeenCalledWith(res, 'openai', expect.objectContaining({ status: 504, type: 'timeout_error' }));
    res.emit('close');
    expect(call.status).toBeUndefined();
    expect(mocks.finishCall).toHaveBeenCalledTimes(1);
  });

  it('routing: no upstream reachable ends the call with 502', async () => {
    const { forwarding, runtime, res, call, routing } = setup();
    routing.resolve({ kind: 'unreachable', error: 'connect ECONNREFUSED', timedOut: false, attempts: 2 });
    await settle();
    expect(forwarding.state).toBe('done');
    expect(call.httpStatus).toBe(502);
    expect(call.attempts).toBe(2);
    expect(runtime.sendError).toHaveBeenCalledWith(res, 'openai', expect.objectContaining({ status: 502, type: 'upstream_unreachable' }));
  });

  it('relaying: the upstream breaking off ends the call cut off; what follows changes nothing', async () => {
    const { forwarding, res, call, attempt, incoming, answer } = setup();
    await answer();
    expect(forwarding.state).toBe('relaying');
    attempt.emit('error', new Error('socket hang up'));
    expect(forwarding.state).toBe('done');
    expect(call.cutOff).toBe(true);
    incoming.emit('close');
    res.emit('close');
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(call.status).toBeUndefined();
    await settle();
    expect(mocks.finishCall).toHaveBeenCalledTimes(1);
  });

  it('relaying: the client leaving aborts the call', async () => {
    const { forwarding, call, attempt, answer } = setup();
    await answer();
    expect(forwarding.state).toBe('relaying');
    (forwarding as unknown as { exchange: { abort(): void } }).exchange.abort();
    expect(forwarding.state).toBe('done');
    expect(call.status).toBe('aborted');
    expect(attempt.destroy).toHaveBeenCalled();
  });

  it('finishing: once the upstream answered in full, the client leaving and the deadline no longer abort it; it is recorded as answered', async () => {
    const { forwarding, res, call, answer, answerEnds, runLater } = setup('batched');
    await answer();
    answerEnds();
    expect(forwarding.state).toBe('finishing');
    expect(res.end).toHaveBeenCalled();
    res.emit('close');
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(forwarding.state).toBe('finishing');
    expect(call.status).toBeUndefined();
    expect(call.error).toBeUndefined();

    await runLater();
    expect(forwarding.state).toBe('done');
    expect(call.httpStatus).toBe(200);
    expect(call.response?.error).toBeUndefined();
    expect(mocks.finishCall).toHaveBeenCalledTimes(1);
  });
});

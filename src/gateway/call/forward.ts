import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isObject } from '../../providers/json-fields.js';
import { observeStream, type StreamObserver } from '../../providers/stream-observer.js';
import { routeCall, type Routed } from './attempts.js';
import { finishCall, UNRECORDED } from './call-finish.js';
import type { CallState } from './call-record.js';
import { decodeBody, observationDecoder } from '../http/content-encoding.js';
import { checkAnswer, guardRules } from './response-checkpoint.js';
import type { RoutePlan } from '../governance/routing.js';
import type { ActiveExchange, GatewayRuntime } from '../runtime.js';
import { relayGuardedStream } from './guarded-relay.js';
import { clientResponseHeaders, upstreamRequestId } from './upstream.js';

/**
 * Where a forwarded call is in its life. Each state says what may still end it:
 *
 * - `routing`: attempts (retries, fallbacks) are under way and nothing has reached the client. An
 *   attempt's error is routing's business; the client going away or the deadline cancels it.
 * - `relaying`: an upstream answered and its answer is on its way to the client. The client going
 *   away, the deadline or the upstream breaking off ends the call.
 * - `finishing`: the upstream's answer is complete; it is being checked, recorded and the client's
 *   answer ended. The client going away or the deadline no longer abort it; the upstream breaking
 *   off still does.
 * - `done`: the call is recorded (or being recorded), exactly once; nothing changes it any more.
 */
export type ForwardState = 'routing' | 'relaying' | 'finishing' | 'done';

/**
 * One call's journey upstream and back: routing (retries, fallbacks), then the answer relayed to
 * the client as it arrives (checked on the way when response policies apply), then the call
 * recorded. Whatever ends it (the answer, a timeout, the client going away, the upstream breaking
 * off), it is recorded exactly once.
 */
export function forward(
  runtime: GatewayRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  call: CallState,
  plan: RoutePlan,
  body: Buffer,
  json: Record<string, unknown>,
): void {
  new Forwarding(runtime, req, res, call).start(plan, body, json);
}

/**
 * A call being forwarded (see `forward`), as a small state machine: `state` moves only forward,
 * routing -> relaying -> finishing -> done, and may jump to done from any state. Every event
 * (the answer, the client leaving, the deadline, the upstream breaking off) goes through one method,
 * which checks the state before it acts.
 */
export class Forwarding {
  private current: ForwardState = 'routing';
  private readonly settings: GatewayRuntime['settings'];
  /** The attempt under way, or the one that answered: destroyed when the call is cut short. */
  private upstreamReq: ClientRequest | undefined;
  /** Reads a streamed answer for the record (set once its relay begins). */
  private observer: StreamObserver | undefined;
  private readonly cancel = new AbortController();
  private readonly exchange: ActiveExchange = { abort: () => this.clientGone() };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: GatewayRuntime,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly call: CallState,
  ) {
    this.settings = runtime.settings;
  }

  get state(): ForwardState {
    return this.current;
  }

  /** Registers the call for shutdown, starts its deadline and its routing. */
  start(plan: RoutePlan, body: Buffer, json: Record<string, unknown>): void {
    const { runtime, req, res, call } = this;
    runtime.active.add(this.exchange);
    this.timer = setTimeout(() => this.timedOut(), this.settings.requestTimeoutMs);
    res.on('close', () => {
      if (!res.writableFinished) this.clientGone();
    });
    void routeCall(runtime, {
      plan,
      trace: call.trace,
      path: req.url ?? call.adapter.path,
      clientHeaders: req.headers,
      body,
      json,
      signal: this.cancel.signal,
      onAttempt: (request, target) => {
        this.upstreamReq = request;
        call.provider = target.provider;
        // Before the answer began, routing handles errors; after, the answer was broken off.
        request.on('error', () => {
          if (this.current !== 'routing') this.brokeOff();
        });
      },
    }).then((routed) => this.routed(routed));
  }

  /**
   * routing -> relaying, or -> done when no upstream could be reached. Ignored once done: the
   * client went away or the deadline passed while routing, and whoever ended it answered.
   */
  private routed(routed: Routed): void {
    if (routed.kind === 'cancelled' || this.current === 'done') return;
    const { call } = this;
    call.attempts = routed.attempts;
    if (routed.kind === 'unreachable') {
      call.httpStatus = routed.timedOut ? 504 : 502;
      call.error = routed.error;
      const error = { status: call.httpStatus, type: routed.timedOut ? 'timeout_error' : 'upstream_unreachable', message: routed.error };
      return void this.complete((recorded) => this.runtime.sendError(this.res, call.adapter.provider, recorded ? error : UNRECORDED));
    }
    // From here an attempt's error no longer means "try the next": the answer was broken off.
    this.current = 'relaying';
    if (routed.target.model !== undefined) call.upstreamModel = routed.target.model;
    this.answer(routed.incoming);
  }

  /**
   * relaying -> finishing: the upstream's answer is complete. What remains is the gateway's own
   * work (checking, recording, ending the client's answer), so a disconnect is no longer an abort
   * and the deadline no longer applies. No change in any other state (a refusal that ends a
   * stream after the call was recorded, say).
   */
  private upstreamFinished(): void {
    if (this.current === 'relaying') this.current = 'finishing';
  }

  /**
   * -> done, from any state but done: records the call once, then `send` finishes the client's
   * answer (`recorded` false: it could not be written, with sync durability). Whatever ends the
   * call second finds it done and changes nothing.
   */
  private readonly complete = async (send: (recorded: boolean) => void): Promise<void> => {
    if (this.current === 'done') return;
    this.current = 'done';
    clearTimeout(this.timer);
    const { runtime, call, req } = this;
    runtime.active.delete(this.exchange);
    call.endedAt = performance.now();
    if (this.settings.durability === 'sync') return send(await finishCall(runtime, call, req.headers));
    // Batched: the answer goes first; building and sealing the records is not the client's wait.
    // Node sends what was written on the next tick, so sealing now would hold the answer back.
    send(true);
    runtime.afterAnswer(() => finishCall(runtime, call, req.headers));
  };

  /**
   * routing or relaying -> done: the client went away (or a shutdown cut the call off). The
   * upstream call is cancelled and the call recorded as aborted. Once the upstream's answer is
   * complete (finishing), the call is recorded as answered instead.
   */
  private clientGone(): void {
    if (this.current !== 'routing' && this.current !== 'relaying') return;
    const { call, res } = this;
    this.cancel.abort();
    this.upstreamReq?.destroy();
    call.status = 'aborted';
    if (call.response === undefined && this.observer) call.response = this.observer.result();
    void this.complete(() => res.destroy());
  }

  /**
   * routing or relaying -> done: `gateway.request_timeout_ms` passed. Nothing sent yet: the client
   * gets a timeout answer; part of an answer sent: it is cut off. Once the upstream's answer is
   * complete (finishing), the deadline no longer applies.
   */
  private timedOut(): void {
    if (this.current !== 'routing' && this.current !== 'relaying') return;
    const { call, res, runtime, settings } = this;
    this.cancel.abort();
    call.error = `the upstream ${call.provider?.name ?? ''} did not finish answering within gateway.request_timeout_ms (${settings.requestTimeoutMs} ms)`;
    if (this.observer) call.response = this.observer.result();
    this.upstreamReq?.destroy();
    if (!res.headersSent) call.httpStatus = 504;
    const format = call.adapter.provider;
    void this.complete((recorded) =>
      res.headersSent ? res.destroy() : runtime.sendError(res, format, recorded ? { status: 504, type: 'timeout_error', message: call.error! } : UNRECORDED),
    );
  }

  /**
   * relaying or finishing -> done: the upstream broke off its answer. Cut off, not ended: what the
   * stream lacked may not have come yet, so it is not judged invalid. While routing an attempt's
   * error is routing's to handle (`start` does not call this then).
   */
  private brokeOff(): void {
    if (this.current === 'done') return;
    const { call } = this;
    call.cutOff = true;
    call.error = `the upstream ${call.provider?.name ?? ''} broke off its answer`;
    if (this.observer) call.response = this.observer.cutOff();
    void this.complete(() => this.res.destroy());
  }

  /** The upstream's answer begins: relayed as a stream (checked or not) or as one body. */
  private answer(incoming: IncomingMessage): void {
    const { call, settings } = this;
    const status = incoming.statusCode ?? 502;
    call.httpStatus = status;
    const id = upstreamRequestId(incoming.headers);
    if (id !== undefined) call.upstreamRequestId = id;
    const responseHeaders = clientResponseHeaders(incoming.headers, call.context.requestId, call.context.traceId);
    incoming.on('close', () => {
      if (!incoming.complete) this.brokeOff();
    });
    const stream = (incoming.headers['content-type'] ?? '').startsWith('text/event-stream');
    // Only successful answers carry text the response checkpoint judges.
    const checked = status >= 200 && status < 300 && settings.policies.at('response').length > 0;
    if (stream && checked) {
      this.observer = observeStream(call.adapter, { startedAt: call.startedAt });
      relayGuardedStream(this.runtime, this.res, call, incoming, status, responseHeaders, this.observer, guardRules(settings.policies), {
        finishing: () => this.upstreamFinished(),
        complete: this.complete,
      });
    } else if (stream) this.relayStream(incoming, status, responseHeaders);
    else this.relayBody(incoming, status, responseHeaders, checked);
  }

  /** SSE: every chunk goes to the client as it arrives, and through the adapter's accumulator. */
  private relayStream(incoming: IncomingMessage, status: number, responseHeaders: OutgoingHttpHeaders): void {
    const { call, res, runtime } = this;
    const streamObserver = observeStream(call.adapter, { startedAt: call.startedAt });
    this.observer = streamObserver;
    const decoder = observationDecoder(incoming.headers['content-encoding'], (chunk) => streamObserver.push(chunk));
    // Sync: from the stream's end marker on, chunks are held until the record is committed, since
    // clients treat the marker (not the connection's end) as the end of the answer.
    const holdEnd = this.settings.durability === 'sync';
    const held: Buffer[] = [];
    res.writeHead(status, responseHeaders);
    // The status and headers leave with the first chunk when it came in the same read (the usual
    // case: one packet, one write, instead of two), else on the next turn of the event loop, so a
    // client still learns at once that its stream has begun.
    let headersPending: NodeJS.Immediate | undefined = setImmediate(() => {
      headersPending = undefined;
      if (!res.headersSent && !res.writableEnded && !res.destroyed) res.flushHeaders();
    });
    const headersGoNow = () => {
      if (headersPending === undefined) return;
      clearImmediate(headersPending);
      headersPending = undefined;
    };
    const observe = (chunk: Buffer) => {
      if (decoder) decoder.write(chunk);
      else streamObserver.push(chunk);
    };
    incoming.on('data', (chunk: Buffer) => {
      // Batched: the chunk goes on first and is read for the record after, so parsing it is
      // never in the client's time to first token: Node sends a write on the next tick, so the
      // reading is queued behind that. Sync must read it first, to hold the end.
      if (!holdEnd) {
        headersGoNow();
        const flowing = res.write(chunk);
        process.nextTick(observe, chunk);
        if (!flowing) {
          incoming.pause();
          res.once('drain', () => incoming.resume());
        }
        return;
      }
      observe(chunk);
      if (held.length > 0 || streamObserver.result().stream?.completed) {
        held.push(chunk);
        return;
      }
      headersGoNow();
      if (!res.write(chunk)) {
        incoming.pause();
        res.once('drain', () => incoming.resume());
      }
    });
    incoming.on('end', () => {
      this.upstreamFinished();
      // Batched: the client's stream ends when the upstream's does; reading its tail is the record's business.
      if (!holdEnd) res.end();
      const end = () => {
        call.response = streamObserver.end();
        void this.complete((recorded) => {
          if (!holdEnd) return;
          if (recorded) res.end(held.length === 0 ? undefined : Buffer.concat(held));
          else res.destroy();
        });
      };
      // Batched: reading the stream's tail waits until its end has left (see `complete`).
      if (decoder) decoder.end(end);
      else if (holdEnd) end();
      else runtime.afterAnswer(end);
    });
  }

  /**
   * A plain answer. Batched and unchecked: its bytes go to the client as they arrive. Sync, or
   * checked by response policies: it is held until its record is committed (and it is judged),
   * so the client never has an answer the ledger does not, or one a policy stopped.
   */
  private relayBody(incoming: IncomingMessage, status: number, responseHeaders: OutgoingHttpHeaders, checked: boolean): void {
    const { call, res, runtime } = this;
    const chunks: Buffer[] = [];
    const streaming = this.settings.durability === 'batched' && !checked;
    if (streaming) res.writeHead(status, responseHeaders);
    incoming.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (streaming && !res.write(chunk)) {
        incoming.pause();
        res.once('drain', () => incoming.resume());
      }
    });
    incoming.on('end', () => {
      this.upstreamFinished();
      // Batched: the client's answer ends now; reading it for the record is not the client's wait.
      if (streaming) res.end();
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const describe = async (text: string): Promise<void> => {
        const parsed = parseJson(text);
        // Anything but an object goes to the adapter as text, so that it can tell an empty body,
        // one that is not JSON and JSON that is not an object apart (an invalid answer, recorded
        // as an error; the client still gets `raw`, the upstream's bytes).
        call.response = call.adapter.describeResponse(isObject(parsed) ? parsed : text, status);
        if (streaming) return this.complete(() => undefined);
        const verdict = checked && isObject(parsed) ? await checkAnswer(runtime, call, res, parsed) : { kind: 'deliver' as const };
        if (verdict.kind === 'gone') return this.complete(() => res.destroy());
        return this.complete((recorded) => {
          if (!recorded) return runtime.sendError(res, call.adapter.provider, UNRECORDED);
          if (verdict.kind === 'refuse') return runtime.sendError(res, call.adapter.provider, verdict.error, verdict.headers);
          if (verdict.kind === 'deliver') return void res.writeHead(status, responseHeaders).end(raw);
          // Redacted: the rewritten JSON, uncompressed, with its own length.
          const headers = { ...responseHeaders, 'content-length': Buffer.byteLength(verdict.body) };
          delete headers['content-encoding'];
          res.writeHead(status, headers).end(verdict.body);
        });
      };
      const encoding = incoming.headers['content-encoding'];
      // Only a compressed answer needs the asynchronous decoder. An answer already on its way is
      // read once it has left (see `complete`).
      if (encoding !== undefined) void decodeBody(raw, encoding).then(describe);
      else if (streaming) runtime.afterAnswer(() => describe(raw.toString('utf8')));
      else void describe(raw.toString('utf8'));
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

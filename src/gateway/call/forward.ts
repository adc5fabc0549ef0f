import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isObject } from '../../providers/json-fields.js';
import { observeStream, type StreamObserver } from '../../providers/stream-observer.js';
import { routeCall } from './attempts.js';
import { finishCall, UNRECORDED } from './call-finish.js';
import type { CallState } from './call-record.js';
import { decodeBody, observationDecoder } from '../http/content-encoding.js';
import { checkAnswer, guardRules } from './response-checkpoint.js';
import type { RoutePlan } from '../governance/routing.js';
import type { ActiveExchange, GatewayRuntime } from '../runtime.js';
import { relayGuardedStream } from './guarded-relay.js';
import { clientResponseHeaders, upstreamRequestId } from './upstream.js';

/**
 * One call's journey upstream and back: routing (retries, fallbacks), then the answer relayed to
 * the client as it arrives (checked on the way when response policies apply), then the call
 * recorded. Whatever ends it (the answer, a timeout, the client going away, the upstream breaking
 * off), it is recorded exactly once.
 */
export function forward(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, call: CallState, plan: RoutePlan, body: Buffer, json: Record<string, unknown>): void {
  const { settings } = runtime;
  const format = call.adapter.provider;
  let upstreamReq: ClientRequest | undefined;
  let observer: StreamObserver | undefined;
  let responded = false;
  let done = false;
  /** The upstream's answer is complete: what remains is checking and recording it and ending the client's. */
  let finishing = false;
  const cancel = new AbortController();

  const exchange: ActiveExchange = { abort: () => clientGone() };
  runtime.active.add(exchange);
  const timer = setTimeout(() => timedOut(), settings.requestTimeoutMs);

  /** Records the call once, then finishes the client's answer (`recorded` false: it could not be written, with sync durability). */
  const complete = async (send: (recorded: boolean) => void): Promise<void> => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    runtime.active.delete(exchange);
    call.endedAt = performance.now();
    if (settings.durability === 'sync') return send(await finishCall(runtime, call, req.headers));
    // Batched: the answer goes first; building and sealing the records is not the client's wait.
    // Node sends what was written on the next tick, so sealing now would hold the answer back.
    send(true);
    runtime.afterAnswer(() => finishCall(runtime, call, req.headers));
  };

  const clientGone = (): void => {
    if (done || finishing) return;
    cancel.abort();
    upstreamReq?.destroy();
    call.status = 'aborted';
    if (call.response === undefined && observer) call.response = observer.result();
    void complete(() => res.destroy());
  };
  res.on('close', () => {
    if (!res.writableFinished) clientGone();
  });

  const timedOut = (): void => {
    if (done || finishing) return;
    cancel.abort();
    call.error = `the upstream ${call.provider?.name ?? ''} did not finish answering within gateway.request_timeout_ms (${settings.requestTimeoutMs} ms)`;
    if (observer) call.response = observer.result();
    upstreamReq?.destroy();
    // Nothing sent yet: the client gets a timeout answer. Part of an answer sent: it is cut off.
    if (!res.headersSent) call.httpStatus = 504;
    void complete((recorded) => (res.headersSent ? res.destroy() : runtime.sendError(res, format, recorded ? { status: 504, type: 'timeout_error', message: call.error! } : UNRECORDED)));
  };

  const brokeOff = (): void => {
    if (done) return;
    call.cutOff = true;
    call.error = `the upstream ${call.provider?.name ?? ''} broke off its answer`;
    // Cut off, not ended: what the stream lacked may not have come yet, so it is not judged invalid.
    if (observer) call.response = observer.cutOff();
    void complete(() => res.destroy());
  };

  void routeCall(runtime, {
    plan,
    trace: call.trace,
    path: req.url ?? call.adapter.path,
    clientHeaders: req.headers,
    body,
    json,
    signal: cancel.signal,
    onAttempt(request, target) {
      upstreamReq = request;
      call.provider = target.provider;
      // Before the answer began, routing handles errors; after, the answer was broken off.
      request.on('error', () => {
        if (responded) brokeOff();
      });
    },
  }).then((routed) => {
    if (routed.kind === 'cancelled' || done) return;
    call.attempts = routed.attempts;
    if (routed.kind === 'unreachable') {
      call.httpStatus = routed.timedOut ? 504 : 502;
      call.error = routed.error;
      const error = { status: call.httpStatus, type: routed.timedOut ? 'timeout_error' : 'upstream_unreachable', message: routed.error };
      return void complete((recorded) => runtime.sendError(res, format, recorded ? error : UNRECORDED));
    }
    responded = true;
    if (routed.target.model !== undefined) call.upstreamModel = routed.target.model;
    answer(routed.incoming);
  });

  const answer = (incoming: IncomingMessage): void => {
    const status = incoming.statusCode ?? 502;
    call.httpStatus = status;
    const id = upstreamRequestId(incoming.headers);
    if (id !== undefined) call.upstreamRequestId = id;
    const responseHeaders = clientResponseHeaders(incoming.headers, call.context.requestId, call.context.traceId);
    incoming.on('close', () => {
      if (!incoming.complete) brokeOff();
    });
    const stream = (incoming.headers['content-type'] ?? '').startsWith('text/event-stream');
    // Only successful answers carry text the response checkpoint judges.
    const checked = status >= 200 && status < 300 && settings.policies.at('response').length > 0;
    if (stream && checked) {
      observer = observeStream(call.adapter, { startedAt: call.startedAt });
      relayGuardedStream(runtime, res, call, incoming, status, responseHeaders, observer, guardRules(settings.policies), {
        finishing: () => (finishing = true),
        complete,
      });
    } else if (stream) relayStream(incoming, status, responseHeaders);
    else relayBody(incoming, status, responseHeaders, checked);
  };

  /** SSE: every chunk goes to the client as it arrives, and through the adapter's accumulator. */
  const relayStream = (incoming: IncomingMessage, status: number, responseHeaders: OutgoingHttpHeaders): void => {
    const streamObserver = observeStream(call.adapter, { startedAt: call.startedAt });
    observer = streamObserver;
    const decoder = observationDecoder(incoming.headers['content-encoding'], (chunk) => streamObserver.push(chunk));
    // Sync: from the stream's end marker on, chunks are held until the record is committed, since
    // clients treat the marker (not the connection's end) as the end of the answer.
    const holdEnd = settings.durability === 'sync';
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
      finishing = true;
      // Batched: the client's stream ends when the upstream's does; reading its tail is the record's business.
      if (!holdEnd) res.end();
      const end = () => {
        call.response = streamObserver.end();
        void complete((recorded) => {
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
  };

  /**
   * A plain answer. Batched and unchecked: its bytes go to the client as they arrive. Sync, or
   * checked by response policies: it is held until its record is committed (and it is judged),
   * so the client never has an answer the ledger does not, or one a policy stopped.
   */
  const relayBody = (incoming: IncomingMessage, status: number, responseHeaders: OutgoingHttpHeaders, checked: boolean): void => {
    const chunks: Buffer[] = [];
    const streaming = settings.durability === 'batched' && !checked;
    if (streaming) res.writeHead(status, responseHeaders);
    incoming.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (streaming && !res.write(chunk)) {
        incoming.pause();
        res.once('drain', () => incoming.resume());
      }
    });
    incoming.on('end', () => {
      finishing = true;
      // Batched: the client's answer ends now; reading it for the record is not the client's wait.
      if (streaming) res.end();
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const describe = async (text: string): Promise<void> => {
        const parsed = parseJson(text);
        // Anything but an object goes to the adapter as text, so that it can tell an empty body,
        // one that is not JSON and JSON that is not an object apart (an invalid answer, recorded
        // as an error; the client still gets `raw`, the upstream's bytes).
        call.response = call.adapter.describeResponse(isObject(parsed) ? parsed : text, status);
        if (streaming) return complete(() => undefined);
        const verdict = checked && isObject(parsed) ? await checkAnswer(runtime, call, res, parsed) : { kind: 'deliver' as const };
        if (verdict.kind === 'gone') return complete(() => res.destroy());
        return complete((recorded) => {
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
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

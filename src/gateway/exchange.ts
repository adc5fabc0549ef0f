import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { observeStream } from '../providers/stream-observer.js';
import type { ProviderAdapter } from '../providers/types.js';
import { callRecord, type CallState } from './call-record.js';
import { readClientContext } from './client-context.js';
import { observationDecoder, decodeBody } from './content-encoding.js';
import { authenticate } from './identity.js';
import { readBody, type ActiveExchange, type GatewayRuntime } from './runtime.js';
import { clientResponseHeaders, upstreamHeaders, upstreamRequestId } from './upstream.js';
import { badRequest, unauthorized, type GatewayError } from './wire-errors.js';

/** The answer is withheld when its record cannot be written (durability: sync). */
const UNRECORDED: GatewayError = {
  status: 503,
  type: 'ledger_unavailable',
  message: 'the audit ledger could not record this call, so its answer is withheld (gateway.durability: sync); retry later',
};

/**
 * Serves one call to an LLM endpoint: checks who is calling and what, forwards the request's
 * bytes unchanged to the routed upstream, relays the answer's bytes unchanged to the client as
 * they arrive (reading them on the way), and writes one `llm.call` record for it, whatever
 * happened: success, upstream error, bad request, timeout or client disconnect.
 */
export async function serveCall(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, adapter: ProviderAdapter): Promise<void> {
  const { settings } = runtime;
  const startedAt = performance.now();
  const { context, problem } = readClientContext(req.headers, settings.maxClientMetadataBytes);
  res.setHeader('x-request-id', context.requestId);
  res.setHeader('x-trace-id', context.traceId);
  const call: CallState = { adapter, context, startedAt };
  const format = adapter.provider;

  const auth = authenticate(req.headers, settings.auth, settings.keys);
  if (!auth.ok) {
    if (auth.apiKey !== undefined) call.identity = { apiKey: auth.apiKey };
    return answerWithError(runtime, req, res, call, unauthorized(auth.problem));
  }
  call.identity = auth.identity;
  if (problem) return answerWithError(runtime, req, res, call, badRequest(problem));

  const body = await readBody(req, settings.maxRequestBytes);
  if (body === 'aborted') {
    call.status = 'aborted';
    await runtime.record(callRecord(call, settings.pricing, undefined));
    return;
  }
  if (body === 'too large') return answerWithError(runtime, req, res, call, { status: 413, type: 'request_too_large', message: `the request body is larger than gateway.max_request_bytes (${settings.maxRequestBytes} bytes)` });
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return answerWithError(runtime, req, res, call, badRequest('the request body must be a JSON object'));
  }
  call.request = adapter.describeRequest(json);
  const model = call.request.model;
  if (model === undefined || model === '' || model.length > 256) return answerWithError(runtime, req, res, call, badRequest('the request must name its "model" (a string of at most 256 characters)'));
  const route = settings.router.route(model, format);
  if ('problem' in route) return answerWithError(runtime, req, res, call, badRequest(route.problem));
  call.provider = route.provider;

  if (runtime.refusesTraffic()) {
    runtime.refused();
    runtime.sendError(
      res,
      format,
      { status: 503, type: 'ledger_unavailable', message: 'the audit ledger cannot record calls right now and this gateway fails closed (gateway.on_store_failure: fail_closed): no call was made; retry later' },
      { 'retry-after': String(Math.max(1, Math.ceil(settings.retryIntervalMs / 1000))) },
    );
    return;
  }
  forward(runtime, req, res, call, body);
}

/** A bad request, unknown key or oversized body: answered by the gateway, and recorded like any call. */
async function answerWithError(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, call: CallState, error: GatewayError): Promise<void> {
  call.httpStatus = error.status;
  call.error = error.message;
  // An unauthenticated request's body is not read, so nothing of it reaches the ledger.
  const recorded = await runtime.record(callRecord(call, runtime.settings.pricing, runtime.settings.keepsHeaders ? req.headers : undefined));
  runtime.sendError(res, call.adapter.provider, recorded ? error : UNRECORDED);
  if (!req.complete) req.resume();
}

/** One upstream exchange, from sending the request to recording the call. */
function forward(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, call: CallState, body: Buffer): void {
  const { settings } = runtime;
  const provider = call.provider!;
  const format = call.adapter.provider;
  const headers = upstreamHeaders(req.headers, provider, settings.auth === 'gateway_keys');
  const upstreamReq: ClientRequest = runtime.upstream.request(provider, 'POST', req.url ?? call.adapter.path, headers);
  let observer: ReturnType<typeof observeStream> | undefined;
  let done = false;
  /** The upstream's answer is complete: what remains is recording it and ending the client's. */
  let finishing = false;

  const exchange: ActiveExchange = { abort: () => clientGone() };
  runtime.active.add(exchange);
  const timer = setTimeout(() => timedOut(), settings.requestTimeoutMs);

  /** Records the call once, then finishes the client's answer (`recorded` false: it could not be written, with sync durability). */
  const complete = async (send: (recorded: boolean) => void): Promise<void> => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    runtime.active.delete(exchange);
    const input = () => callRecord(call, settings.pricing, settings.keepsHeaders ? req.headers : undefined);
    if (settings.durability === 'sync') return send(await runtime.record(input()));
    // Batched: the answer goes first; building and sealing the record is not the client's wait.
    send(true);
    void runtime.record(input());
  };

  const clientGone = (): void => {
    if (done || finishing) return;
    upstreamReq.destroy();
    call.status = 'aborted';
    if (call.response === undefined && observer) call.response = observer.result();
    void complete(() => res.destroy());
  };
  res.on('close', () => {
    if (!res.writableFinished) clientGone();
  });

  const timedOut = (): void => {
    if (done) return;
    call.error = `the upstream ${provider.name} did not finish answering within gateway.request_timeout_ms (${settings.requestTimeoutMs} ms)`;
    if (observer) call.response = observer.result();
    upstreamReq.destroy();
    // Nothing sent yet: the client gets a timeout answer. Part of an answer sent: it is cut off.
    if (!res.headersSent) call.httpStatus = 504;
    void complete((recorded) => (res.headersSent ? res.destroy() : runtime.sendError(res, format, recorded ? { status: 504, type: 'timeout_error', message: call.error! } : UNRECORDED)));
  };

  upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
    if (done) return;
    if (call.httpStatus !== undefined) return brokeOff();
    call.httpStatus = 502;
    call.error = `cannot reach the upstream ${provider.name}: ${err.code ?? err.message}`;
    void complete((recorded) => runtime.sendError(res, format, recorded ? { status: 502, type: 'upstream_unreachable', message: call.error! } : UNRECORDED));
  });

  const brokeOff = (): void => {
    if (done) return;
    call.cutOff = true;
    call.error = `the upstream ${provider.name} broke off its answer`;
    if (observer) call.response = observer.end();
    void complete(() => res.destroy());
  };

  upstreamReq.on('response', (incoming: IncomingMessage) => {
    const status = incoming.statusCode ?? 502;
    call.httpStatus = status;
    const id = upstreamRequestId(incoming.headers);
    if (id !== undefined) call.upstreamRequestId = id;
    const responseHeaders = clientResponseHeaders(incoming.headers, call.context.requestId, call.context.traceId);
    incoming.on('close', () => {
      if (!incoming.complete) brokeOff();
    });
    const contentType = incoming.headers['content-type'] ?? '';
    if (contentType.startsWith('text/event-stream')) relayStream(incoming, status, responseHeaders);
    else relayBody(incoming, status, responseHeaders);
  });

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
      // never in the client's time to first token. Sync must read it first, to hold the end.
      if (!holdEnd) {
        headersGoNow();
        const flowing = res.write(chunk);
        observe(chunk);
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
      if (decoder) decoder.end(end);
      else end();
    });
  };

  /**
   * A plain answer. Batched: its bytes go to the client as they arrive. Sync: it is held until
   * its record is committed, so the client never has an answer the ledger does not.
   */
  const relayBody = (incoming: IncomingMessage, status: number, responseHeaders: OutgoingHttpHeaders): void => {
    const chunks: Buffer[] = [];
    const streaming = settings.durability === 'batched';
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
      const describe = (text: string): Promise<void> => {
        call.response = call.adapter.describeResponse(parseJson(text), status);
        return complete((recorded) => {
          if (streaming) return;
          if (recorded) res.writeHead(status, responseHeaders).end(raw);
          else runtime.sendError(res, format, UNRECORDED);
        });
      };
      const encoding = incoming.headers['content-encoding'];
      // Only a compressed answer needs the asynchronous decoder.
      void (encoding === undefined ? describe(raw.toString('utf8')) : decodeBody(raw, encoding).then(describe));
    });
  };

  upstreamReq.end(body);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The simulated OpenAI and Anthropic upstream: shipped for `llm-ledger demo`, and what the tests run
 * against. Both wire formats (JSON and SSE) on 127.0.0.1 and a free port, offline, with scripted
 * misbehaviour per request (`x-fake-scenario`: error-500, tool, stall, ...).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicError, anthropicModels, anthropicReply } from './fake-anthropic.js';
import { openAIError, openAIModels, openAIReply } from './fake-openai.js';
import { invalidReply } from './fake-invalid.js';
import type { FakeReply } from './fake-reply.js';
import { chooseScenario, fakeId, headerMillis, headerValue, type Scenario } from './fake-scenarios.js';

/** One request as the fake received it, headers and all, so tests can check what was forwarded. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  scenario?: Scenario;
  /** Status and body sent back (for a stream, the SSE text written so far), to run adapters over. */
  status?: number;
  responseBody: string;
  /** The body's bytes, for the scenarios that send bytes that are not UTF-8 text (`garbage`, ...); else `responseBody` is them. */
  responseBytes?: Buffer;
  /** False while the reply is being written, and for good if the client went away first. */
  completed: boolean;
  /** True when the client closed the connection before the reply was complete. */
  clientClosed: boolean;
}

export interface FakeUpstream {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  /** Delay between SSE frames unless a request's `x-fake-chunk-delay-ms` says otherwise. Default 0. */
  chunkDelayMs?: number;
  /** How long `slow` waits unless `x-fake-response-delay-ms` says otherwise. Default 5,000. */
  slowMs?: number;
  /** If set, only these keys are accepted (as `Authorization: Bearer` or Anthropic's `x-api-key`). */
  apiKeys?: readonly string[];
  /**
   * Scenarios for the first LLM calls, in order, whatever they ask for (a provider that fails
   * twice and then recovers: `['error-500', 'error-500']`); later calls choose as usual.
   */
  script?: readonly Scenario[];
}

const OPENAI_POSTS = new Set(['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/completions']);

/**
 * A stand-in for the OpenAI and Anthropic APIs on 127.0.0.1 and a free port, speaking their real
 * wire formats (JSON and SSE) closely enough for the official SDKs, with scripted misbehaviour
 * chosen per request (see `fake-scenarios.ts`). Requests are told apart as the real services do:
 * Anthropic's `/v1/messages` and the `anthropic-version` header it requires; the rest is OpenAI.
 */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const script = [...(options.script ?? [])];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    // Each SSE frame must leave as its own packet, not wait for the next (Nagle's algorithm).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      json: parseJson(body),
      responseBody: '',
      completed: false,
      clientClosed: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!record.completed) record.clientClosed = true;
    });
    const anthropic = path === '/v1/messages' || (path === '/v1/models' && req.headers['anthropic-version'] !== undefined);
    const reply = await route(req, record, anthropic);
    if (reply === 'stall') {
      // A plain request that stalls gets its status and headers, then no body, ever.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      record.status = 200;
      return;
    }
    await send(res, reply, record, headerMillis(req.headers, 'x-fake-chunk-delay-ms', options.chunkDelayMs ?? 0));
  }

  async function route(req: IncomingMessage, record: RecordedRequest, anthropic: boolean): Promise<FakeReply | 'stall'> {
    const fail = anthropic ? anthropicError : openAIError;
    const authError = checkAuth(req.headers, anthropic, options.apiKeys);
    if (authError) return fail(401, authError);
    if (anthropic && req.headers['anthropic-version'] === undefined) return fail(400, 'anthropic-version: header is required');
    if (record.method === 'GET' && record.path === '/v1/models') return anthropic ? anthropicModels() : openAIModels();
    if (record.method !== 'POST' || (!anthropic && !OPENAI_POSTS.has(record.path))) return fail(404, `Unknown request URL: ${record.method} ${record.path}.`);
    const json = record.json;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail(400, 'The request body is not valid JSON.');
    const body = json as Record<string, unknown>;
    let scenario: Scenario;
    try {
      scenario = script.shift() ?? chooseScenario(req.headers, typeof body.model === 'string' ? body.model : undefined);
    } catch (error) {
      return fail(400, (error as Error).message);
    }
    record.scenario = scenario;
    const errorStatus = /^error-(\d{3})$/.exec(scenario)?.[1];
    if (errorStatus) return fail(Number(errorStatus));
    if (scenario === 'quote-400')
      return fail(400, `Invalid request: ${JSON.stringify(body.messages ?? body.input ?? body.prompt ?? null)} is not accepted here.`);
    if (scenario === 'slow') await sleep(headerMillis(req.headers, 'x-fake-response-delay-ms', options.slowMs ?? 5_000));
    if (scenario === 'stall' && body.stream !== true) return 'stall';
    return invalidReply(scenario, record.path, body, anthropic) ?? (anthropic ? anthropicReply(body, scenario) : openAIReply(record.path, body, scenario));
  }

  async function send(res: ServerResponse, reply: FakeReply, record: RecordedRequest, chunkDelayMs: number): Promise<void> {
    const requestId = fakeId('req_');
    const idHeaders = record.path === '/v1/messages' ? { 'request-id': requestId } : { 'x-request-id': requestId, 'openai-processing-ms': '12' };
    if (reply.kind === 'json') {
      record.status = reply.status;
      record.responseBody = JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...idHeaders, ...reply.headers });
      res.end(record.responseBody);
      record.completed = true;
      return;
    }
    if (reply.kind === 'raw') {
      record.status = reply.status;
      record.responseBytes = reply.body;
      record.responseBody = reply.body.toString('utf8');
      res.writeHead(reply.status, { 'content-type': reply.contentType, ...idHeaders });
      res.end(reply.body);
      record.completed = true;
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...idHeaders,
      ...reply.headers,
    });
    res.flushHeaders();
    record.status = 200;
    const last = reply.stallAfter ?? reply.frames.length;
    for (const [index, frame] of reply.frames.slice(0, last).entries()) {
      if (res.destroyed) return;
      if (index > 0) await (chunkDelayMs > 0 ? sleep(chunkDelayMs) : new Promise((resolve) => setImmediate(resolve)));
      record.responseBody += frame;
      res.write(frame);
    }
    if (reply.stallAfter !== undefined) return;
    res.end();
    record.completed = true;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * OpenAI takes `Authorization: Bearer <key>`; Anthropic takes `x-api-key`, and its SDK sends a
 * bearer token instead when given an auth token, so both are accepted there.
 */
function checkAuth(headers: IncomingHttpHeaders, anthropic: boolean, allowed: readonly string[] | undefined): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(headerValue(headers, 'authorization') ?? '')?.[1];
  const key = (anthropic ? headerValue(headers, 'x-api-key') : undefined) ?? bearer;
  if (!key)
    return anthropic
      ? 'x-api-key header is required'
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
  if (allowed && !allowed.includes(key)) return anthropic ? 'invalid x-api-key' : 'Incorrect API key provided.';
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

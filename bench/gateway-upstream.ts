import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The upstream the gateway benchmark calls, directly and through each gateway: OpenAI chat
 * completions on 127.0.0.1, a JSON answer or an SSE stream, as fast as Node can answer. Unlike
 * the simulated upstream (src/providers/simulated), it keeps no request history and builds its answers
 * once, so what the benchmark times is the gateways' work, not the fake's.
 */
export interface BenchUpstream {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Requests answered so far, by kind. */
  readonly served: { json: number; stream: number; rejected: number };
  close(): Promise<void>;
}

const MODEL = 'gpt-4o-mini';
const ANSWER_PIECES = [
  'The ',
  'ledger ',
  'keeps ',
  'every ',
  'call: ',
  'who ',
  'asked, ',
  'what ',
  'it ',
  'cost, ',
  'and ',
  'a ',
  'proof ',
  'that ',
  'nothing ',
  'changed.',
];
const USAGE = {
  prompt_tokens: 42,
  completion_tokens: ANSWER_PIECES.length,
  total_tokens: 42 + ANSWER_PIECES.length,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
const CREATED = 1_763_900_000;

const JSON_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model: MODEL,
    choices: [
      { index: 0, message: { role: 'assistant', content: ANSWER_PIECES.join(''), refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: USAGE,
    service_tier: 'default',
    system_fingerprint: 'fp_bench',
  }),
);

/** The frames of one streamed answer, as OpenAI sends them with `stream_options.include_usage`. */
const STREAM_FRAMES: Buffer[] = (() => {
  const chunk = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: MODEL, service_tier: 'default', system_fingerprint: 'fp_bench', choices, usage })}\n\n`;
  const choice = (delta: unknown, finish: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
  return [
    chunk([choice({ role: 'assistant', content: '', refusal: null })]),
    ...ANSWER_PIECES.map((piece) => chunk([choice({ content: piece })])),
    chunk([choice({}, 'stop')]),
    chunk([], USAGE),
    'data: [DONE]\n\n',
  ].map((frame) => Buffer.from(frame));
})();

const JSON_HEADERS = {
  'content-type': 'application/json',
  'content-length': String(JSON_BODY.length),
  'x-request-id': 'req_bench',
  'openai-processing-ms': '1',
};
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-request-id': 'req_bench',
  'openai-processing-ms': '1',
};

/** The request's `stream` flag, or what is wrong with it: the benchmark sends nothing else, so anything else is a bug in a gateway. */
function readRequest(req: IncomingMessage, body: string): { stream: boolean } | { problem: string } {
  if (req.method !== 'POST' || (req.url ?? '').split('?', 1)[0] !== '/v1/chat/completions') return { problem: `unexpected ${req.method} ${req.url}` };
  if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) return { problem: 'no bearer key' };
  let json: { model?: unknown; stream?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    return { problem: 'the body is not JSON' };
  }
  return typeof json.model === 'string' ? { stream: json.stream === true } : { problem: 'no model' };
}

export async function startBenchUpstream(): Promise<BenchUpstream> {
  const served = { json: 0, stream: 0, rejected: 0 };
  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  const answer = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const request = readRequest(req, body);
    if ('problem' in request) {
      served.rejected++;
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: request.problem, type: 'invalid_request_error', param: null, code: null } }));
      return;
    }
    if (!request.stream) {
      served.json++;
      res.writeHead(200, JSON_HEADERS).end(JSON_BODY);
      return;
    }
    served.stream++;
    // The first frame leaves with the headers; the rest follow one per turn of the event loop,
    // as separate writes, the way tokens leave a model server.
    res.writeHead(200, STREAM_HEADERS);
    res.write(STREAM_FRAMES[0]);
    let next = 1;
    const more = (): void => {
      if (res.destroyed) return;
      if (next === STREAM_FRAMES.length) {
        res.end();
        return;
      }
      res.write(STREAM_FRAMES[next++]);
      setImmediate(more);
    };
    setImmediate(more);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

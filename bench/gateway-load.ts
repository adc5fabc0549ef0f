import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

/** Somewhere the load generator sends chat completions: the upstream itself, or a gateway in front of it. */
export interface LoadTarget {
  name: string;
  /** Base URL without `/v1`. */
  url: string;
  /** Extra request headers (Portkey's routing headers). */
  headers: OutgoingHttpHeaders;
  /** The process serving it, when it is a gateway: its CPU time is measured. */
  pid?: number;
}

/** A gateway process as a target, without extra headers. */
export function targetOf(name: string, server: { url: string; pid: number }): LoadTarget {
  return { name, url: server.url, headers: {}, pid: server.pid };
}

export type LoadMode = 'json' | 'stream';

/** A realistic small chat request (about 400 bytes), the same for every target. */
function requestBody(mode: LoadMode): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are a careful assistant for a regulated bank. Answer briefly.' },
        { role: 'user', content: 'Summarise what an audit trail of model calls should contain, in one sentence.' },
      ],
      temperature: 0.2,
      max_tokens: 64,
      ...(mode === 'stream' ? { stream: true, stream_options: { include_usage: true } } : {}),
    }),
  );
}

const BODIES: Record<LoadMode, Buffer> = { json: requestBody('json'), stream: requestBody('stream') };

/** The client's key: passed through to the upstream by both gateways; only its hash and prefix are recorded. */
const CLIENT_KEY = 'sk-bench-client-0123456789abcdefghijklmnop';

/**
 * One request on a kept-alive connection. Milliseconds from sending it to the first byte of the
 * answer's body (for a stream: the first SSE event) and to its last byte.
 */
function timedRequest(agent: Agent, target: URL, extra: OutgoingHttpHeaders, mode: LoadMode): Promise<{ firstMs: number; totalMs: number }> {
  const body = BODIES[mode];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first = 0;
    const req = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { ...extra, 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${CLIENT_KEY}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (first === 0) first = performance.now();
          if (res.statusCode !== 200) chunks.push(chunk);
        });
        res.on('end', () => {
          const end = performance.now();
          if (res.statusCode !== 200)
            return reject(new Error(`${target.origin} answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
          if (first === 0) return reject(new Error(`${target.origin} answered with an empty body`));
          resolve({ firstMs: first - start, totalMs: end - start });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Samples of one target in one phase, filled block by block. */
export class Samples {
  readonly firstMs: Float64Array;
  readonly totalMs: Float64Array;
  count = 0;
  /** Wall time spent in this target's blocks, for its throughput. */
  busyMs = 0;
  /** CPU time its process spent during those blocks. */
  cpuMs = 0;

  constructor(capacity: number) {
    this.firstMs = new Float64Array(capacity);
    this.totalMs = new Float64Array(capacity);
  }

  add(firstMs: number, totalMs: number): void {
    this.firstMs[this.count] = firstMs;
    this.totalMs[this.count] = totalMs;
    this.count++;
  }
}

/**
 * Sends `count` requests to a target with `concurrency` of them always in flight, each client
 * sending its next request when its answer is complete. With `samples`, each is timed.
 */
export async function runBlock(agent: Agent, target: LoadTarget, mode: LoadMode, concurrency: number, count: number, samples?: Samples): Promise<void> {
  const url = new URL(target.url);
  let next = 0;
  const client = async () => {
    while (next < count) {
      next++;
      const { firstMs, totalMs } = await timedRequest(agent, url, target.headers, mode);
      samples?.add(firstMs, totalMs);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  if (samples) samples.busyMs += performance.now() - start;
}

/** Nearest-rank percentile of the first `count` values. */
export function percentile(values: Float64Array, count: number, p: number): number {
  const sorted = values.slice(0, count).sort();
  return sorted[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))] ?? Number.NaN;
}

/** A keep-alive connection pool for one target and phase: `concurrency` connections, reused. */
export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' });
}

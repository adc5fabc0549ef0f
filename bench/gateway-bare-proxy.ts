import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The floor for any Node gateway: a node:http pass-through that reads the request, sends it on
 * over a kept-alive connection and relays the answer chunk by chunk, and does nothing else (no
 * parsing, no ids, no record). What llm-ledger adds beyond this is its own work; what this adds
 * over calling the upstream directly is the cost of one more hop on the machine. Forked by the
 * gateway benchmark with the upstream's URL; sends its own URL once listening.
 */
if (!process.send) throw new Error('gateway-bare-proxy is started by the gateway benchmark with child_process.fork');
const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true });
const server = createServer({ noDelay: true }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const out = request(
      { agent, hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => res.write(chunk));
        answer.on('end', () => res.end());
      },
    );
    out.on('error', () => res.destroy());
    out.end(Buffer.concat(chunks));
  });
});
// A benchmark that dies must not leave its proxy behind.
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

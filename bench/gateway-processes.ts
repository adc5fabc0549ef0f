import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The processes of the gateway benchmark: the bench upstream, the llm-ledger gateway as
 * `llm-ledger serve` runs it, and the Portkey gateway as its own package starts it. Each gets a
 * process of its own, as in production, so no server shares an event loop with the load
 * generator or with another server.
 */

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface BenchUpstreamProcess {
  url: string;
  /** Stops it; resolves with what it served. */
  stop(): Promise<{ json: number; stream: number; rejected: number }>;
}

export async function startUpstreamProcess(): Promise<BenchUpstreamProcess> {
  const child = fork(here('./gateway-upstream-main.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the bench upstream exited (code ${code}) before listening`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve, reject) => {
        child.once('message', (message) => resolve((message as { served: { json: number; stream: number; rejected: number } }).served));
        child.once('exit', (code) => reject(new Error(`the bench upstream exited (code ${code}) without reporting`)));
        child.send('stop');
      }),
  };
}

/** The bare node:http pass-through (gateway-bare-proxy.ts), the floor any Node gateway starts from. */
export async function startBareProxy(upstreamUrl: string): Promise<GatewayProcess> {
  const child = fork(here('./gateway-bare-proxy.js'), [upstreamUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the bare proxy exited (code ${code}) before listening`)));
  });
  return { url, pid: child.pid!, stop: () => stopChild(child, { text: () => '' }, 'the bare proxy', false) };
}

export interface GatewayProcess {
  url: string;
  pid: number;
  /** SIGTERM, then waits for a graceful exit (for llm-ledger: every record written). */
  stop(): Promise<void>;
}

/** Collects a child's output, for an error that says why it did not start or stop cleanly. */
function captureOutput(child: ChildProcess): { text(): string } {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { text: () => text };
}

function waitForOutput(child: ChildProcess, output: { text(): string }, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${timeoutMs} ms; its output:\n${output.text()}`)), timeoutMs);
    const check = () => {
      const match = pattern.exec(output.text());
      if (match) done(() => resolve(match));
    };
    const exited = (code: number | null) => fail(new Error(`${what} exited (code ${code}) before it was ready; its output:\n${output.text()}`));
    const done = (then: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', exited);
      then();
    };
    const fail = (err: Error) =>
      done(() => {
        child.kill('SIGKILL');
        reject(err);
      });
    child.stdout?.on('data', check);
    child.once('exit', exited);
  });
}

/** A benchmark that dies must not leave its servers behind: spawned children get SIGTERM when it exits. */
function stopOnExit(child: ChildProcess): void {
  const stop = () => child.kill('SIGTERM');
  process.once('exit', stop);
  child.once('exit', () => process.off('exit', stop));
}

/** `graceful`: the process handles SIGTERM itself and must exit with code 0; else dying by the signal is its normal stop. */
function stopChild(child: ChildProcess, output: { text(): string }, what: string, graceful: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return reject(new Error(`${what} had already exited (code ${child.exitCode}); its output:\n${output.text()}`));
    child.once('exit', (code, signal) => {
      if (code === 0 || (!graceful && signal === 'SIGTERM')) resolve();
      else reject(new Error(`${what} did not stop cleanly (code ${code}, signal ${signal}); its output:\n${output.text()}`));
    });
    child.kill('SIGTERM');
  });
}

/**
 * Three request policies as a governed deployment would have them (issue 6's benchmark): an
 * allow-list of models, PII redaction of prompts, and a per-key rate limit far above the load.
 */
export const BENCH_POLICIES = [
  "    - { name: approved-models, type: models, allow: ['gpt-4o*', 'claude-*'] }",
  '    - { name: pii, type: pii, checkpoints: [request], action: redact }',
  '    - { name: per-key, type: rate_limit, requests_per_minute: 10000000 }',
];

/**
 * The configuration file an llm-ledger gateway runs with, in its own directory: every default
 * (SQLite, hash-only, batched) but the upstream, and with `policies` the three above.
 */
export function writeLedgerGatewayConfig(dir: string, upstreamUrl: string, options: { policies?: boolean } = {}): string {
  const file = join(dir, 'llm-ledger.yaml');
  const lines = [
    'store:',
    '  path: ledger.db',
    'log:',
    '  anchor:',
    '    path: anchor',
    'gateway:',
    '  providers:',
    '    openai:',
    `      base_url: ${upstreamUrl}`,
  ];
  if (options.policies) lines.push('  policies:', ...BENCH_POLICIES);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * `llm-ledger --config <file> serve --port 0`, the command a platform team runs. With
 * `cpuProfileDir`, the gateway writes a V8 CPU profile there when it stops.
 */
export async function startLedgerGateway(configFile: string, cpuProfileDir?: string): Promise<GatewayProcess> {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir];
  const child = spawn(process.execPath, [...profile, here('../src/cli/main.js'), '--config', configFile, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stopOnExit(child);
  const output = captureOutput(child);
  const match = await waitForOutput(child, output, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'llm-ledger serve');
  return { url: match[1]!, pid: child.pid!, stop: () => stopChild(child, output, 'llm-ledger serve', true) };
}

/** Where npm put the Portkey gateway's start script, or undefined when it is not installed. */
export function portkeyEntry(): string | undefined {
  try {
    return join(createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json'), '..', 'build', 'start-server.js');
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Portkey gateway as `npx @portkey-ai/gateway` starts it (its package's bin), headless, on
 * a free port and, through the loopback preload, on 127.0.0.1 only. It needs nothing from the
 * network: each request names the upstream in `x-portkey-custom-host`.
 */
export async function startPortkeyGateway(entry: string): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', here('./gateway-loopback.js'), entry, `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  stopOnExit(child);
  const output = captureOutput(child);
  await waitForOutput(child, output, /Ready for connections/, 'the Portkey gateway');
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child, output, 'the Portkey gateway', false) };
}

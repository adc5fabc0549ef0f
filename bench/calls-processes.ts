import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PerCallBuild } from './per-call-builds.js';

/**
 * The processes of the per-call benchmarks: writer processes feeding a build's Ledger with calls
 * in its own format (calls-writer.ts), and a verifier process (calls-verify-child.ts).
 */

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A ledger configuration file in `dir` (keys and anchor beside it), on SQLite or on a PostgreSQL schema. */
export function writeCallsConfig(dir: string, store: { type: 'sqlite' } | { type: 'postgres'; url: string; schema: string }): string {
  const file = join(dir, 'llm-ledger.yaml');
  const storeLine = store.type === 'sqlite' ? 'store: { path: ledger.db }' : `store: { type: postgres, url: '${store.url}', schema: ${store.schema} }`;
  writeFileSync(file, `${storeLine}\nlog: { signing_key_file: signing.key, anchor: { path: anchor } }\ndigest: { key_file: digest.key }\n`);
  return file;
}

interface Writer {
  child: ChildProcess;
  lines: AsyncIterator<string>;
}

export interface WritersResult {
  seconds: number;
  /** CPU the writer processes spent from `go` to `done`, microseconds, all together. */
  writerCpuMicros: number;
}

/**
 * `processes` writer processes of `build` on one ledger share calls [0, calls), each in its
 * build's format; `around` runs around the timed part (from `go` to the last `done`), e.g. a
 * server meter. With `calls` 0, one process opens and closes the ledger: its keys and schema made.
 */
export async function runWriters(
  build: PerCallBuild,
  config: string,
  options: { policies: 0 | 3; salt: string; calls: number; processes: number },
  around: { before?: () => Promise<void>; after?: () => Promise<void> } = {},
): Promise<WritersResult> {
  const { calls, processes } = options;
  const share = Math.ceil(calls / processes);
  const writers: Writer[] = Array.from({ length: processes }, (_, p) => {
    const range = [String(Math.min(calls, p * share)), String(Math.min(calls, (p + 1) * share))];
    const child = spawn(
      process.execPath,
      [here('./calls-writer.js'), build.dist, config, String(build.format), String(options.policies), options.salt, ...range],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
  });
  try {
    await Promise.all(writers.map((w) => expectLine(w, 'ready')));
    await around.before?.();
    const start = performance.now();
    for (const w of writers) w.child.stdin!.write('go\n');
    const cpu = await Promise.all(writers.map((w) => doneLine(w)));
    const seconds = (performance.now() - start) / 1000;
    await around.after?.();
    for (const w of writers) w.child.stdin!.write('close\n');
    await Promise.all(writers.map((w) => expectLine(w, 'closed')));
    return { seconds, writerCpuMicros: cpu.reduce((a, b) => a + b, 0) };
  } finally {
    for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

async function expectLine(writer: Writer, expected: string): Promise<void> {
  const { value, done } = await writer.lines.next();
  if (done || value !== expected) throw new Error(`a calls writer process said ${done ? 'nothing (it exited)' : JSON.stringify(value)} instead of ${expected}`);
}

async function doneLine(writer: Writer): Promise<number> {
  const { value, done } = await writer.lines.next();
  const match = /^done (\d+)$/.exec(done ? '' : (value as string));
  if (!match) throw new Error(`a calls writer process said ${done ? 'nothing (it exited)' : JSON.stringify(value)} instead of done`);
  return Number(match[1]);
}

export interface VerifiedLedger {
  /** Seconds the verify took, in a fresh process. */
  seconds: number;
  ok: boolean;
  /** Records in the log. */
  size: number;
  verifiedSize: number;
  /** `llm.call` records (stats). */
  calls: number;
  problems: string[];
}

/** Verifies a ledger with `build`'s library in a fresh process, and counts its `llm.call` records. */
export async function verifyLedger(build: PerCallBuild, config: string): Promise<VerifiedLedger> {
  const { stdout } = await promisify(execFile)(process.execPath, [here('./calls-verify-child.js'), build.dist, config], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as VerifiedLedger;
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSignerKey, openBenchLedger } from './ingest.js';

const CHILD = fileURLToPath(new URL('./ingest-child.js', import.meta.url));

export interface ProcessesIngest {
  processes: number;
  records: number;
  /** All records over the time from the common start to the last process's end. */
  recordsPerSecond: number;
  /** Each process's own rate. */
  perProcess: number[];
  /** The log verified after the run, as one log. */
  verified: boolean;
}

/**
 * `records` records ingested into one SQLite ledger by `processes` writer processes at once (see
 * ingest-child.ts): each opens the ledger, says `ready`, waits for `go`, records its share and
 * says how long that took. The rate counts from `go` to the last one done. With one process it is
 * the same path in a process of its own: the baseline of the same run.
 */
export async function ingestInProcesses(records: number, processes: number): Promise<ProcessesIngest> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-processes-'));
  try {
    // The ledger exists (file, schema, keys) before the writers race to open it.
    await (await openBenchLedger(dir)).close();
    const share = Math.floor(records / processes);
    const children = Array.from({ length: processes }, (_, i) => startChild(dir, i * share, share));
    await Promise.all(children.map((c) => c.ready));
    const start = performance.now();
    for (const c of children) c.go();
    const seconds = await Promise.all(children.map((c) => c.done));
    const wall = (performance.now() - start) / 1000;
    const ledger = await openBenchLedger(dir);
    const report = await ledger.verify();
    await ledger.close();
    return {
      processes,
      records: share * processes,
      recordsPerSecond: (share * processes) / wall,
      perProcess: seconds.map((s) => share / s),
      verified: report.ok && report.size === share * processes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startChild(dir: string, from: number, count: number) {
  const child = spawn(process.execPath, [CHILD, dir, String(from), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SIGNER_KEY: benchSignerKey() },
  });
  let out = '';
  const lines = new Promise<string[]>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.split('\n')) : reject(new Error(`the ingest child exited with code ${code}`))));
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => out.includes('ready\n') && resolve());
    lines.catch(reject);
  });
  return {
    ready,
    go: () => child.stdin.end('go\n'),
    done: lines.then((all) => Number(all.find((l) => l.startsWith('seconds '))!.slice('seconds '.length))),
  };
}

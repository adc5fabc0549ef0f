import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencyResult } from './ingest.js';

export type LatencyKind = 'ledger' | 'raw';

/**
 * Runs `commitLatency` (the ledger) or `rawCommitLatency` (plain node:sqlite) in a process of its
 * own. Steady-state latency is a property of a process serving that load, not of the heap the
 * benchmark's throughput runs leave behind: after 100,000 records offered with 8,192 waiting, V8
 * had decided to allocate some objects in the old generation, and the latency run in that same
 * process then met 10-25 ms scavenges that a process at half load does not have. `build`: the
 * compiled benchmarks of another build of llm-ledger to measure instead of this one (ab-run.ts).
 */
export function latencyInOwnProcess(kind: LatencyKind, offeredPerSecond: number, seconds: number, build?: string): Promise<LatencyResult> {
  return inChild<LatencyResult>([kind, String(offeredPerSecond), String(seconds)], build);
}

/** `ledgerIngestRate(count)` in a process of its own, of this build or of another (`build`: its compiled benchmarks, OtherBuild.bench). */
export async function ingestInOwnProcess(count: number, build?: string): Promise<number> {
  return (await inChild<{ recordsPerSecond: number }>(['ingest', String(count), '0'], build)).recordsPerSecond;
}

function inChild<T>(args: string[], build: string | undefined): Promise<T> {
  execFileSync('sync');
  const child = fork(fileURLToPath(new URL('./latency-child.js', import.meta.url)), [...args, ...(build === undefined ? [] : [build])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: T | undefined;
    child.once('message', (message) => (result = message as T));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 && result ? resolve(result) : reject(new Error(`the ${args[0]} process exited with code ${code} without a result`)),
    );
  });
}

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { openLedger } from '../open-ledger.js';
import type { Ledger, LedgerReader } from '../ledger.js';
import { TORN_TAIL_EVENT } from '../../store/torn-tail.js';
import { sampleCall } from './fixtures.js';

/**
 * Crash tests: a child process records through the library under load and is killed with SIGKILL
 * at a random moment; then every record it acknowledged must be there, verify must pass (a crash
 * is never reported as tampering) and the next writable open must append. One ledger serves every
 * kill, so the log grows and each child starts from what the last one left.
 *
 * The kill times come from a seeded generator; the seed is logged, and CRASH_SEED=<seed> replays
 * a run's kill times (the moments the child reaches under them still vary with the machine).
 */

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const HOOKS = fileURLToPath(new URL('./ts-hooks.ts', import.meta.url));
/** How a child runs the library from its TypeScript sources (see ts-hooks.ts). */
export const TS_CHILD_ARGS = ['--experimental-transform-types', '--no-warnings', '--import', HOOKS];

/** Writes `settings` (llm-ledger.yaml's keys) to `dir/llm-ledger.yaml`, with keys and anchor in `dir`. */
export function writeCrashConfig(dir: string, store: Record<string, unknown>, log: Record<string, unknown> = {}): string {
  const path = join(dir, 'llm-ledger.yaml');
  const settings = {
    store,
    // A checkpoint every 50 ms: under load some batches carry one and most do not.
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 50, anchor: { path: 'anchor' }, ...log },
    digest: { key_file: 'digest.key' },
  };
  writeFileSync(path, stringify(settings));
  return path;
}

export interface CrashOptions {
  /** The ledger's configuration file (see writeCrashConfig). */
  configPath: string;
  kills: number;
  seed: number;
  /** Concurrent `record` loops in the child (default 8). */
  loops?: number;
  /**
   * Writer processes appending to the ledger at once, all killed at the same moment (default 1).
   * Each must keep acknowledging: one that acknowledged nothing in the last second before its kill (WEDGED_MS) is
   * reported as wedged.
   */
  writers?: number;
  /** A kill under load comes this long after the child is ready, uniformly (default [0, 600] ms). */
  killAfterReadyMs?: [number, number];
  /** The share of kills that come while the child opens the ledger (recovering what the last kill left), at a random moment of the last open's duration (default 0.2). */
  duringOpen?: number;
  log: (line: string) => void;
}

export interface KillResult {
  kill: number;
  /** When the kill came, in ms after the child said it was ready; -1: while it opened the ledger. */
  atMs: number;
  acknowledged: number;
  sizeAfter: number;
  /** What went wrong, if anything. */
  failures: string[];
}

export interface CrashSummary {
  kills: KillResult[];
  acknowledged: number;
  /** Every failure of every kill, each prefixed with its kill number. */
  failures: string[];
  /** `torn_tail_recovered` events in the log at the end (JSONL). */
  tornTailEvents: number;
}

/** Uniform numbers in [0, 1) from a seed: the n-th is the first 32 bits of SHA-256("seed:n"). */
export function seededRandom(seed: number): () => number {
  let n = 0;
  return () => createHash('sha256').update(`${seed}:${n++}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The seed of this run: CRASH_SEED when set (to replay a failure), else a fresh one. */
export function crashSeed(): number {
  const given = process.env.CRASH_SEED;
  return given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

const quiet = { onWarning: () => undefined };

export async function runCrashes(options: CrashOptions): Promise<CrashSummary> {
  const random = seededRandom(options.seed);
  const [from, to] = options.killAfterReadyMs ?? [0, 600];
  const duringOpen = options.duringOpen ?? 0.2;
  const results: KillResult[] = [];
  const everAcknowledged: string[] = [];
  let lastOpenMs = 100;
  options.log(`crash run: ${options.kills} kills, seed ${options.seed} (replay with CRASH_SEED=${options.seed}), config ${options.configPath}`);
  // The ledger and its keys exist before the first child, which may be killed while it opens.
  const setup: string[] = [];
  await withLedger(
    options.configPath,
    false,
    setup,
    'creating the ledger',
    async (ledger) => void (await ledger.record(sampleCall(0, { requestId: 'before-kills' }))),
  );
  if (setup.length > 0) throw new Error(setup.join('; '));
  for (let kill = 1; kill <= options.kills; kill++) {
    // Drawn in a fixed order whatever happens, so a seed always gives the same schedule.
    const whileOpening = random() < duringOpen;
    const fraction = random();
    const when = whileOpening ? { sinceOpeningMs: fraction * lastOpenMs } : { sinceReadyMs: from + fraction * (to - from) };
    const children = await Promise.all(Array.from({ length: options.writers ?? 1 }, () => runChild(options, when)));
    const child = children.length === 1 ? children[0]! : mergedRuns(children);
    const failures = [...child.failures];
    if (child.openMs !== undefined) lastOpenMs = child.openMs;
    everAcknowledged.push(...child.acknowledged);
    const sizeAfter = await checkAfterKill(options.configPath, child.acknowledged, failures);
    const atMs = Math.round(child.killedAfterReadyMs ?? -1);
    results.push({ kill, atMs, acknowledged: child.acknowledged.length, sizeAfter, failures });
    const moment =
      child.killedAfterReadyMs === undefined
        ? `while opening the ledger, ${Math.round(child.killedAfterOpeningMs ?? -1)} ms into it`
        : `${atMs} ms after ready`;
    options.log(
      `kill ${kill}/${options.kills}: ${moment}; ` +
        `${child.acknowledged.length} acknowledged; log holds ${sizeAfter}${failures.length ? `; FAILED: ${failures.join(' | ')}` : '; acknowledged records present, verify ok, appended'}`,
    );
  }
  const final = await finalCheck(options.configPath, everAcknowledged);
  const failures = [...results.flatMap((r) => r.failures.map((f) => `kill ${r.kill}: ${f}`)), ...final.failures];
  options.log(
    `crash run done: ${results.length} kills, ${everAcknowledged.length} acknowledged records, ${final.tornTailEvents} torn tail(s) recovered, ${failures.length} failure(s); seed ${options.seed}`,
  );
  return { kills: results, acknowledged: everAcknowledged.length, failures, tornTailEvents: final.tornTailEvents };
}

/** Several writers' runs as one: every acknowledged id, the first writer's timings, and each writer's failures. */
function mergedRuns(runs: ChildRun[]): ChildRun {
  return {
    ...runs[0]!,
    acknowledged: runs.flatMap((r) => r.acknowledged),
    failures: runs.flatMap((r, i) =>
      [...r.failures, ...(r.wedged ? [`writer ${i + 1} acknowledged nothing in the ${WEDGED_MS} ms before its kill`] : [])].map((f) => `writer ${i + 1}: ${f}`),
    ),
  };
}

/** A writer ready this long before its kill must have acknowledged something in that time. */
const WEDGED_MS = 1000;

interface ChildRun {
  acknowledged: string[];
  /** Ready for more than WEDGED_MS before the kill, with nothing acknowledged in the last WEDGED_MS. */
  wedged?: boolean;
  /** ms from `opening` to `ready`; undefined when killed before. */
  openMs: number | undefined;
  killedAfterOpeningMs: number | undefined;
  killedAfterReadyMs: number | undefined;
  failures: string[];
}

/** Starts the writer, kills it at the moment asked for, and collects the ids it acknowledged. */
function runChild(options: CrashOptions, when: { sinceReadyMs: number } | { sinceOpeningMs: number }): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...TS_CHILD_ARGS, WRITER, options.configPath, String(options.loops ?? 8)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged: string[] = [];
    let openingAt: number | undefined;
    let readyAt: number | undefined;
    let killedAt: number | undefined;
    let lastAckAt: number | undefined;
    let pending = '';
    let stderr = '';
    const failures: string[] = [];
    const killNow = () => {
      if (killedAt !== undefined) return;
      killedAt = performance.now();
      child.kill('SIGKILL');
    };
    const schedule = (ms: number) => setTimeout(killNow, Math.max(0, ms));
    // A child that never gets ready is killed all the same, and reported.
    const deadline = setTimeout(() => {
      failures.push(`the writer was not ready after 20 s: ${stderr.slice(-500)}`);
      killNow();
    }, 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ack ')) {
          acknowledged.push(line.slice(4));
          lastAckAt = performance.now();
        } else if (line === 'opening' && openingAt === undefined) {
          openingAt = performance.now();
          if ('sinceOpeningMs' in when) schedule(when.sinceOpeningMs);
        } else if (line === 'ready' && readyAt === undefined) {
          readyAt = performance.now();
          clearTimeout(deadline);
          if ('sinceReadyMs' in when) schedule(when.sinceReadyMs);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL' || killedAt === undefined)
        failures.push(`the writer exited by itself (code ${code}, signal ${signal}) before the kill: ${stderr.slice(-1000)}`);
      const end = killedAt ?? performance.now();
      resolve({
        acknowledged,
        openMs: readyAt === undefined || openingAt === undefined ? undefined : readyAt - openingAt,
        killedAfterOpeningMs: openingAt === undefined ? undefined : end - openingAt,
        killedAfterReadyMs: readyAt === undefined || readyAt > end ? undefined : end - readyAt,
        wedged: readyAt !== undefined && end - readyAt > WEDGED_MS && end - Math.max(readyAt, lastAckAt ?? 0) > WEDGED_MS,
        failures,
      });
    });
  });
}

/**
 * After a kill: read-only (as `llm-ledger verify` opens), every acknowledged record is there and
 * verify passes; then a writable open (which recovers what the crash left) appends.
 */
async function checkAfterKill(configPath: string, acknowledged: readonly string[], failures: string[]): Promise<number> {
  await withLedger(configPath, true, failures, 'read-only open', async (reader) => {
    const missing: string[] = [];
    for (const id of acknowledged) if (!(await reader.get(id))) missing.push(id);
    if (missing.length > 0)
      failures.push(`${missing.length} of ${acknowledged.length} acknowledged record(s) are missing, e.g. ${missing.slice(0, 3).join(', ')}`);
    const report = await reader.verify();
    if (!report.ok) failures.push(`verify (read-only): ${report.problems.map((p) => `${p.kind}@${p.index ?? '-'}: ${p.message}`).join('; ')}`);
  });
  let size = -1;
  await withLedger(configPath, false, failures, 'writable open', async (writer) => {
    const before = await writer.size();
    const receipt = await writer.record(sampleCall(0, { requestId: 'after-kill' }));
    if (receipt.index < before) failures.push(`the record after the kill got index ${receipt.index}, below the log's size ${before}`);
    size = await writer.size();
  });
  return size;
}

/** At the end: every record acknowledged over all kills is there, and a writable open verifies the whole log. */
async function finalCheck(configPath: string, acknowledged: readonly string[]): Promise<{ failures: string[]; tornTailEvents: number }> {
  const failures: string[] = [];
  let tornTailEvents = 0;
  await withLedger(configPath, false, failures, 'final open', async (ledger) => {
    let missing = 0;
    for (const id of acknowledged) if (!(await ledger.get(id))) missing++;
    if (missing > 0) failures.push(`final: ${missing} of ${acknowledged.length} acknowledged records are missing`);
    const report = await ledger.verify();
    if (!report.ok) failures.push(`final verify: ${report.problems.map((p) => `${p.kind}@${p.index ?? '-'}: ${p.message}`).join('; ')}`);
    for (
      let cursor: string | undefined, page;
      (page = await ledger.search({ kind: 'event', eventType: TORN_TAIL_EVENT, limit: 1000, ...(cursor ? { cursor } : {}) }));
      cursor = page.nextCursor
    ) {
      tornTailEvents += page.records.length;
      if (!page.nextCursor) break;
    }
  });
  return { failures, tornTailEvents };
}

function withLedger(configPath: string, readOnly: true, failures: string[], what: string, run: (ledger: LedgerReader) => Promise<void>): Promise<void>;
function withLedger(configPath: string, readOnly: false, failures: string[], what: string, run: (ledger: Ledger) => Promise<void>): Promise<void>;
async function withLedger(configPath: string, readOnly: boolean, failures: string[], what: string, run: (ledger: Ledger) => Promise<void>): Promise<void> {
  let ledger: LedgerReader;
  try {
    ledger = await openLedger(configPath, { ...quiet, readOnly });
  } catch (err) {
    failures.push(`${what} failed: ${(err as Error).message}`);
    return;
  }
  try {
    // A reader only when `readOnly`, and then the overload's `run` takes a reader.
    await run(ledger as Ledger);
  } catch (err) {
    failures.push(`${what}: ${(err as Error).message}`);
  } finally {
    await ledger.close().catch((err: Error) => failures.push(`closing after ${what}: ${err.message}`));
  }
}

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Comparison } from './ab-compare.js';
import { recordsPerCall } from './call-shapes.js';
import { runWriters, verifyLedger, writeCallsConfig, type VerifiedLedger } from './calls-processes.js';
import type { PerCallBuild } from './per-call-builds.js';
import { median, spread } from './spread.js';

/**
 * `verify` time for a number of calls (issue 19: a million), each build's ledger written by its
 * own Ledger in its own format (call-shapes.ts; in format 1 five records a call, ten with three
 * policies) on SQLite by one writer process, then verified by that build's library in fresh
 * processes, the builds taking turns. A build given fewer calls (`callsOf`, to keep a format-1
 * baseline of five million records out of a short run) has its time scaled to the others' count
 * per call, and the row says so.
 */

export interface VerifyCallsBuildResult {
  build: string;
  /** Calls its ledger holds, and records. */
  calls: number;
  records: number;
  /** Writing them: one writer process, calls/s. */
  writeCallsPerSecond: number;
  /** The database file (WAL not checkpointed), bytes a call. */
  bytesPerCall: number;
  /** Verify seconds of each round. */
  seconds: number[];
  /** Median seconds scaled to `target` calls (the same as `seconds` when it holds them). */
  secondsForTarget: number;
  extrapolated: boolean;
  verified: boolean;
  last: VerifiedLedger;
}

export interface VerifyCallsResult extends Comparison {
  json: { target: number; policies: 0 | 3; rounds: number; builds: VerifyCallsBuildResult[] };
}

export async function compareVerifyCalls(
  builds: PerCallBuild[],
  target: number,
  rounds: number,
  log: (line: string) => void,
  options: { policies?: 0 | 3; callsOf?: (build: PerCallBuild) => number } = {},
): Promise<VerifyCallsResult> {
  const policies = options.policies ?? 0;
  const dirs: string[] = [];
  try {
    const ledgers: { build: PerCallBuild; config: string; calls: number; write: number; bytes: number; runs: VerifiedLedger[] }[] = [];
    for (const build of builds) {
      const calls = options.callsOf?.(build) ?? target;
      const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-verify-calls-'));
      dirs.push(dir);
      const config = writeCallsConfig(dir, { type: 'sqlite' });
      const records = calls * recordsPerCall(build.format, policies);
      log(`  ${build.name}: writing ${calls} calls (${records} records, format ${build.format}, ${policies} policies) to SQLite`);
      await runWriters(build, config, { policies, salt: 'verify', calls: 0, processes: 1 });
      const written = await runWriters(build, config, { policies, salt: 'verify', calls, processes: 1 });
      ledgers.push({ build, config, calls, write: calls / written.seconds, bytes: statSync(join(dir, 'ledger.db')).size, runs: [] });
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < ledgers.length; k++) {
        const ledger = ledgers[(round + k) % ledgers.length]!;
        const result = await verifyLedger(ledger.build, ledger.config);
        ledger.runs.push(result);
        log(
          `  verify, ${ledger.build.name}: ${result.seconds.toFixed(2)} s for ${result.size} records (${ledger.calls} calls), ok=${result.ok}, llm.call records ${result.calls}`,
        );
      }
    }
    const results: VerifyCallsBuildResult[] = ledgers.map((l) => {
      const seconds = l.runs.map((r) => r.seconds);
      const records = l.calls * recordsPerCall(l.build.format, policies);
      const last = l.runs.at(-1)!;
      return {
        build: l.build.name,
        calls: l.calls,
        records,
        writeCallsPerSecond: Math.round(l.write),
        bytesPerCall: Math.round(l.bytes / l.calls),
        seconds,
        secondsForTarget: (median(seconds) * target) / l.calls,
        extrapolated: l.calls !== target,
        verified: l.runs.every((r) => r.ok && r.size === records && r.verifiedSize === records && r.calls === l.calls),
        last,
      };
    });
    const rows = [
      [
        'build',
        'calls (records) verified',
        'verify s, median (range)',
        `s for ${target} calls`,
        'us a call',
        'written at, calls/s',
        'file bytes a call',
        'verified, every call counted',
      ],
      ...results.map((r) => [
        r.build,
        `${r.calls} (${r.records})`,
        spread(r.seconds, 2),
        `${r.secondsForTarget.toFixed(2)}${r.extrapolated ? ` (scaled from ${r.calls} calls)` : ''}`,
        ((r.secondsForTarget / target) * 1e6).toFixed(2),
        String(r.writeCallsPerSecond),
        String(r.bytesPerCall),
        String(r.verified),
      ]),
    ];
    if (results.length > 1) {
      const [mine, theirs] = results;
      rows.push([`${theirs!.build} / ${mine!.build}`, '-', '-', `${(theirs!.secondsForTarget / mine!.secondsForTarget).toFixed(2)}x`, '-', '-', '-', '-']);
    }
    return { rows, json: { target, policies, rounds, builds: results } };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

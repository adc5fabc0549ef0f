import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildRevision, type OtherBuild } from './ab-build.js';
import type { RecordFormat } from './call-shapes.js';
import { startLedgerGateway } from './gateway-processes.js';
import type { StartGateway } from './storage-per-call.js';

/**
 * The builds the per-call benchmarks (issue 19) set side by side: this one and a baseline
 * revision, each with its own library (for feeding and verifying ledgers), its own `serve` and
 * the record format its gateway writes.
 */

/** The last commit before record format 2: a call written as 5 records (10 with three policies). */
export const FORMAT_1_BASELINE = '6a250bb';

export interface PerCallBuild {
  /** `this build`, or the baseline's short commit. */
  name: string;
  /** The folder holding the build's library, `index.js`. */
  dist: string;
  /** Its envelope format: 1, one record per event; 2, a call's events inside its record. */
  format: RecordFormat;
  /** Starts its `llm-ledger serve`. */
  start: StartGateway;
}

/** This build: the library compiled beside the benchmarks (bench-build/src). */
function thisBuild(): PerCallBuild {
  return { name: 'this build', dist: fileURLToPath(new URL('../src', import.meta.url)), format: 2, start: (config) => startLedgerGateway(config) };
}

/** This build, and the other's own library, gateway (its compiled gateway-processes.js starts its CLI) and format. */
export async function perCallBuilds(other?: OtherBuild): Promise<PerCallBuild[]> {
  const builds = [thisBuild()];
  if (other) {
    const theirs = (await import(pathToFileURL(join(other.bench, 'gateway-processes.js')).href)) as { startLedgerGateway: StartGateway };
    const types = (await import(pathToFileURL(join(other.dist, 'record', 'types.js')).href)) as { ENVELOPE_VERSION?: number };
    builds.push({
      name: other.commit.slice(0, 12),
      dist: other.dist,
      format: (types.ENVELOPE_VERSION ?? 1) >= 2 ? 2 : 1,
      start: (config) => theirs.startLedgerGateway(config),
    });
  }
  return builds;
}

/**
 * The baseline built in a temporary worktree (ab-build.ts), or, with BENCH_BASELINE_BUILD=<folder>,
 * a worktree built before (its dist/ and bench-build/ in place), which is left as it is: repeated
 * smoke runs need not rebuild it.
 */
export function baselineBuild(revision: string): OtherBuild {
  const prebuilt = process.env.BENCH_BASELINE_BUILD;
  if (prebuilt === undefined || prebuilt === '') return buildRevision(revision);
  const folder = resolve(prebuilt);
  if (!existsSync(join(folder, 'dist', 'index.js'))) throw new Error(`BENCH_BASELINE_BUILD=${prebuilt}: no dist/index.js there`);
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: folder, encoding: 'utf8' }).trim();
  const bench = existsSync(join(folder, 'bench-build', 'bench')) ? join(folder, 'bench-build', 'bench') : join(folder, 'dist', 'bench');
  return { commit, dist: join(folder, 'dist'), bench, remove: () => undefined };
}

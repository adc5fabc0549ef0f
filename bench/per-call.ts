import type { OtherBuild } from './ab-build.js';
import { markdownTable } from './ab-compare.js';
import { comparePostgresCalls, type PostgresCallsResult } from './calls-postgres.js';
import { compareVerifyCalls, type VerifyCallsResult } from './calls-verify.js';
import { perCallBuilds, type PerCallBuild } from './per-call-builds.js';
import { saturationAllRecorded, saturationScenario, type SaturationResult } from './saturation.js';
import { median } from './spread.js';

/**
 * Issue 19's per-call figures, this build beside a baseline revision (by default 6a250bb, the
 * last one writing a record per event) in one run: saturation at c=64 (saturation.ts), PostgreSQL
 * ingest in calls a second with 1 and 4 writers (calls-postgres.ts) and `verify` of a million
 * calls (calls-verify.ts). Sizes: BENCH_QUICK=1 shrinks every one to a smoke run; else the
 * defaults below, or BENCH_SATURATION_CALLS (calls a block), BENCH_SATURATION_ROUNDS,
 * BENCH_PG_CALLS, BENCH_PG_ROUNDS, BENCH_VERIFY_CALLS (default 1,000,000), BENCH_VERIFY_BASELINE_CALLS
 * (fewer calls for a format-1 baseline, its time scaled per call and marked so),
 * BENCH_VERIFY_POLICIES (0 or 3: the shape of the calls), BENCH_VERIFY_ROUNDS.
 */

export type PerCallScenario = 'saturation' | 'postgres' | 'verify';
export const PER_CALL_SCENARIOS: readonly PerCallScenario[] = ['saturation', 'postgres', 'verify'];

export interface PerCallResults {
  json: { baseline?: string; saturation?: SaturationResult['json']; postgres?: PostgresCallsResult['json']; verify?: VerifyCallsResult['json'] };
  /** One Markdown section per scenario. */
  markdown: string;
  /** `npm run bench`'s summary rows. */
  mainRows: string[];
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export async function perCallScenarios(
  other: OtherBuild | undefined,
  options: { quick: boolean; log: (line: string) => void; scenarios?: readonly PerCallScenario[] },
): Promise<PerCallResults> {
  const { quick, log } = options;
  const scenarios = options.scenarios ?? PER_CALL_SCENARIOS;
  const builds = await perCallBuilds(other);
  const beside = other ? ` beside ${other.commit.slice(0, 12)}` : '';
  const json: PerCallResults['json'] = other ? { baseline: other.commit } : {};
  const sections: string[] = [];
  const mainRows: string[] = [];
  const baselineName = builds[1]?.name ?? '-';

  if (scenarios.includes('saturation')) {
    const result = await runSaturation(builds, quick, log);
    json.saturation = result.json;
    sections.push(
      `Saturation, closed loop at c=${result.json.concurrency}, non-streaming, ${result.json.rounds} round(s) of ${result.json.perBlock} calls a target in turn${beside}:\n\n${markdownTable(result.rows)}`,
    );
    mainRows.push(...saturationRows(result, builds, saturationAllRecorded(result)));
  }

  if (scenarios.includes('postgres')) {
    const result = await runPostgresCalls(builds, quick, log);
    json.postgres = result.json;
    sections.push(
      `PostgreSQL ingest in calls a second, ${result.json.calls} calls, ${result.json.rounds} round(s) in turn${beside}:\n\n${markdownTable(result.rows)}`,
    );
    mainRows.push(postgresRow(result, builds, baselineName));
  }

  if (scenarios.includes('verify')) {
    const result = await runVerifyCalls(builds, quick, log);
    json.verify = result.json;
    sections.push(
      `verify of ${result.json.target} calls, ${result.json.policies} policies, SQLite, fresh processes in turn${beside}:\n\n${markdownTable(result.rows)}`,
    );
    mainRows.push(verifyRow(result));
  }

  return { json, markdown: sections.join('\n\n'), mainRows };
}

/** The saturation scenario at its sizes; `rounds` overrides BENCH_SATURATION_ROUNDS. */
export function runSaturation(builds: PerCallBuild[], quick: boolean, log: (line: string) => void, rounds?: number): Promise<SaturationResult> {
  return saturationScenario(builds, {
    warmup: quick ? 100 : 2_000,
    perBlock: env('BENCH_SATURATION_CALLS', quick ? 500 : 5_000),
    rounds: rounds ?? env('BENCH_SATURATION_ROUNDS', quick ? 1 : 5),
    log,
  });
}

/** PostgreSQL calls/s at its sizes; `rounds` overrides BENCH_PG_ROUNDS. */
export function runPostgresCalls(builds: PerCallBuild[], quick: boolean, log: (line: string) => void, rounds?: number): Promise<PostgresCallsResult> {
  return comparePostgresCalls(builds, env('BENCH_PG_CALLS', quick ? 600 : 20_000), rounds ?? env('BENCH_PG_ROUNDS', quick ? 1 : 3), log);
}

/** verify of a million calls (BENCH_VERIFY_CALLS), at its sizes; `rounds` overrides BENCH_VERIFY_ROUNDS. */
export function runVerifyCalls(builds: PerCallBuild[], quick: boolean, log: (line: string) => void, rounds?: number): Promise<VerifyCallsResult> {
  const target = env('BENCH_VERIFY_CALLS', quick ? 1_500 : 1_000_000);
  const baselineCalls = process.env.BENCH_VERIFY_BASELINE_CALLS === undefined ? undefined : Number(process.env.BENCH_VERIFY_BASELINE_CALLS);
  const policies = env('BENCH_VERIFY_POLICIES', 0) === 3 ? 3 : 0;
  log(`verify of ${target} calls (${policies} policies), each build's ledger in its own format on SQLite`);
  return compareVerifyCalls(builds, target, rounds ?? env('BENCH_VERIFY_ROUNDS', quick ? 1 : 3), log, {
    policies,
    callsOf: (build) => (build.format === 1 && baselineCalls !== undefined ? baselineCalls : target),
  });
}

const x = (values: number[]) => `${median(values).toFixed(2)}x (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})`;

function saturationRows(result: SaturationResult, builds: PerCallBuild[], allRecorded: boolean): string[] {
  const targets = result.json.targets;
  const bare = targets.find((t) => t.kind === 'bare')!;
  const portkey = targets.find((t) => t.kind === 'portkey');
  const figures = (t: (typeof targets)[number]) =>
    `${median(t.callsPerSecond).toFixed(0)} calls/s, ${median(t.cpuMsPerCall).toFixed(3)} CPU ms a call, ${t.peakMemoryMb?.toFixed(0) ?? '-'} MB peak`;
  const of = (build: string, policies: 0 | 3) => targets.find((t) => t.build === build && t.policies === policies)!;
  const rows: string[] = [];
  for (const build of builds) {
    const ratio = result.ratios.find((r) => r.build === build.name)!;
    const mine = build === builds[0];
    rows.push(
      `| saturation c=${result.json.concurrency}, ${build.name}, 0 policies | ${figures(of(build.name, 0))}; ${x(ratio.overBare)} the bare proxy | bare node:http proxy: ${figures(bare)} | ${mine ? '>= 0.5x the bare proxy' : '-'} |`,
    );
    rows.push(
      `| saturation c=${result.json.concurrency}, ${build.name}, 3 policies | ${figures(of(build.name, 3))}${ratio.policiesOverPortkey ? `; ${x(ratio.policiesOverPortkey)} Portkey` : ''} | ${portkey ? `${portkey.name}: ${figures(portkey)}` : `Portkey: ${result.json.portkey.note ?? 'not measured'}`} | ${mine ? '>= 2x Portkey' : '-'} |`,
    );
  }
  const recorded = targets
    .filter((t) => t.kind === 'llm-ledger')
    .map((t) => `${t.build}/${t.policies}: ${t.recorded?.calls ?? '-'} of ${t.sent}`)
    .join(', ');
  rows.push(`| saturation: calls recorded and verified | ${allRecorded ? 'every call, verify ok' : 'NOT every call'} (${recorded}) | - | every call |`);
  return rows;
}

function postgresRow(result: PostgresCallsResult, builds: PerCallBuild[], baselineName: string): string {
  if (result.json.skipped) return `| ingest into PostgreSQL in calls/s, 1 and 4 writers | skipped: ${result.json.skipped} | - | >= 2x the build before |`;
  const medianOf = (build: string, writers: number) =>
    median(result.json.runs.filter((r) => r.build === build && r.writers === writers).map((r) => r.callsPerSecond)).toFixed(0);
  const mine = builds[0]!.name;
  const verified = result.json.runs.every((r) => r.verified);
  const ratio = result.fourWriters?.ratio;
  return (
    `| ingest into PostgreSQL, ${result.json.calls} calls, 1 / 4 writer processes | ${medianOf(mine, 1)} / ${medianOf(mine, 4)} calls/s${ratio === undefined ? '' : ` (4 writers: ${ratio.toFixed(2)}x ${baselineName})`}; verified ${verified} | ` +
    `${builds[1] ? `${baselineName}, 5 records a call: ${medianOf(baselineName, 1)} / ${medianOf(baselineName, 4)} calls/s` : '-'} | >= 2x the build before with 4 writers |`
  );
}

function verifyRow(result: VerifyCallsResult): string {
  const [mine, theirs] = result.json.builds;
  const seconds = (b: NonNullable<typeof mine>) =>
    `${b.secondsForTarget.toFixed(2)} s (${b.records} records${b.extrapolated ? `; measured on ${b.calls} calls and scaled` : ''}), verified ${b.verified}`;
  return `| verify ${result.json.target} calls (${result.json.policies} policies), SQLite | ${seconds(mine!)} | ${theirs ? `${theirs.build}: ${seconds(theirs)}; ${(theirs.secondsForTarget / mine!.secondsForTarget).toFixed(2)}x longer` : '-'} | - |`;
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRevision, type OtherBuild } from './ab-build.js';
import { figuresOf, runPhase, type TargetFigures } from './gateway.js';
import { targetOf, type LoadMode, type LoadTarget } from './gateway-load.js';
import * as processes from './gateway-processes.js';
import { compareIngest, compareLatency, markdownTable, type Comparison } from './ab-compare.js';
import { ledgerIngestRate } from './ingest.js';
import { compareStorage, storageBuilds } from './storage-per-call.js';
import { perCallBuilds } from './per-call-builds.js';
import { runPostgresCalls, runSaturation, runVerifyCalls } from './per-call.js';

/**
 * This build against another revision, side by side: `npm run build:bench && npx node
 * bench-build/bench/ab-run.js <git revision> [latency|ingest|gateway|storage|saturation|calls-postgres|calls-verify] [rounds]`.
 * The last three are issue 19's per-call scenarios (per-call.ts; their sizes: BENCH_SATURATION_CALLS,
 * BENCH_PG_CALLS, BENCH_VERIFY_CALLS, BENCH_VERIFY_BASELINE_CALLS, BENCH_VERIFY_POLICIES). On a shared machine whose
 * speed swings from minute to minute, two runs an hour apart say little about a change; here the
 * two builds take turns, round after round, in fresh processes (latency) or in alternating blocks
 * of requests (gateway), and the spread is reported with the medians. BENCH_RATE sets the offered
 * records per second of the latency scenario (default: half of this build's ingest rate).
 * Writes bench/results/ab-latest.json and ab-latest.md.
 */
const SCENARIOS = ['latency', 'ingest', 'gateway', 'storage', 'saturation', 'calls-postgres', 'calls-verify'];
const [revision, scenario = 'latency', roundsArg] = process.argv.slice(2);
if (revision === undefined || !SCENARIOS.includes(scenario)) {
  process.stderr.write(`usage: node bench-build/bench/ab-run.js <git revision> [${SCENARIOS.join('|')}] [rounds]\n`);
  process.exit(2);
}
const rounds = Number(roundsArg ?? 6);
const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * The two builds' gateways (every default, then with the three bench policies) beside the direct
 * upstream and the bare proxy, at c=1 and c=32, plain and streamed: added latency and CPU a call.
 */
async function gateway(other: OtherBuild): Promise<Comparison> {
  const theirs = (await import(pathToFileURL(join(other.bench, 'gateway-processes.js')).href)) as typeof processes;
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-ab-gateway-'));
  const upstream = await processes.startUpstreamProcess();
  const started: processes.GatewayProcess[] = [];
  try {
    const config = (name: string, policies: boolean) => {
      mkdirSync(join(dir, name));
      return processes.writeLedgerGatewayConfig(join(dir, name), upstream.url, { policies });
    };
    const stopLater = (server: processes.GatewayProcess): processes.GatewayProcess => {
      started.push(server);
      return server;
    };
    const targets: LoadTarget[] = [
      { name: 'direct', url: upstream.url, headers: {} },
      targetOf('bare', stopLater(await processes.startBareProxy(upstream.url))),
      targetOf('this', stopLater(await processes.startLedgerGateway(config('this', false)))),
      targetOf('other', stopLater(await theirs.startLedgerGateway(config('other', false)))),
      targetOf('this, 3 policies', stopLater(await processes.startLedgerGateway(config('this-3', true)))),
      targetOf('other, 3 policies', stopLater(await theirs.startLedgerGateway(config('other-3', true)))),
    ];
    const rows = [['mode', 'target', 'adds p50 / p90 / p99 ms', 'CPU ms a call']];
    const json: Record<string, Record<string, TargetFigures>> = {};
    for (const concurrency of [1, 32])
      for (const mode of ['json', 'stream'] as LoadMode[]) {
        const measured = (concurrency === 1 ? 400 : 3_200) * rounds;
        const { figures } = await runPhase({ mode, concurrency, warmup: concurrency === 1 ? 1000 : 3_200, measured }, targets, rounds);
        const of = (name: string) => figuresOf(figures.get(name)!, mode);
        const direct = of('direct');
        json[`${mode}, c=${concurrency}`] = Object.fromEntries(targets.map((t) => [t.name, of(t.name)]));
        const short = other.commit.slice(0, 12);
        for (const [name, label] of [
          ['bare', 'bare node:http proxy'],
          ['this', 'this build'],
          ['other', short],
          ['this, 3 policies', 'this build, 3 policies'],
          ['other, 3 policies', `${short}, 3 policies`],
        ] as const) {
          const f = of(name);
          const added = [f.p50 - direct.p50, f.p90 - direct.p90, f.p99 - direct.p99].map((v) => `+${v.toFixed(2)}`).join(' / ');
          rows.push([`${mode === 'json' ? 'non-streaming' : 'stream, first byte'}, c=${concurrency}`, label, added, f.cpuMsPerCall?.toFixed(2) ?? '-']);
        }
      }
    return { rows, json };
  } finally {
    for (const server of started) await server.stop().catch(() => undefined);
    await upstream.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`building ${revision} beside this checkout`);
const other = buildRevision(revision);
try {
  const builds = () => perCallBuilds(other);
  const result =
    scenario === 'gateway'
      ? await gateway(other)
      : scenario === 'saturation'
        ? await runSaturation(await builds(), false, log, rounds)
        : scenario === 'calls-postgres'
          ? await runPostgresCalls(await builds(), false, log, rounds)
          : scenario === 'calls-verify'
            ? await runVerifyCalls(await builds(), false, log, rounds)
            : scenario === 'storage'
              ? await compareStorage(await storageBuilds(other), Number(process.env.BENCH_CALLS ?? 2_000), rounds, log)
              : scenario === 'ingest'
                ? await compareIngest(other, rounds, 100_000, log)
                : await compareLatency(other, rounds, Number(process.env.BENCH_RATE ?? Math.floor((await ledgerIngestRate(100_000)) / 2)), log);
  const table = markdownTable(result.rows);
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(
    join('bench', 'results', 'ab-latest.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, scenario, other: other.commit, rounds, ...result.json }, null, 2)}\n`,
  );
  writeFileSync(
    join('bench', 'results', 'ab-latest.md'),
    `${scenario}: this build against ${other.commit} (${revision}), ${rounds} rounds in turn\n\n${table}\n`,
  );
  log(`\n${table}\n\nwritten to bench/results/ab-latest.json and ab-latest.md`);
} finally {
  other.remove();
}

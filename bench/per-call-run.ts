import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMAT_1_BASELINE, baselineBuild } from './per-call-builds.js';
import { PER_CALL_SCENARIOS, perCallScenarios, type PerCallScenario } from './per-call.js';

/**
 * Issue 19's per-call scenarios alone, this build beside a baseline (per-call.ts):
 * `npm run build:bench && npx node bench-build/bench/per-call-run.js [revision] [saturation|postgres|verify|all]`.
 * The revision defaults to 6a250bb (the last one writing a record per event); `none` runs this
 * build alone. BENCH_QUICK=1 for a smoke run; BENCH_BASELINE_BUILD=<folder> reuses a worktree
 * built before. Writes bench/results/per-call-latest.json and .md.
 */
const [revisionArg = FORMAT_1_BASELINE, scenarioArg = 'all'] = process.argv.slice(2);
if (scenarioArg !== 'all' && !PER_CALL_SCENARIOS.includes(scenarioArg as PerCallScenario)) {
  process.stderr.write(`usage: node bench-build/bench/per-call-run.js [revision|none] [${PER_CALL_SCENARIOS.join('|')}|all]\n`);
  process.exit(2);
}
const quick = process.env.BENCH_QUICK === '1';
const log = (line: string) => process.stdout.write(`${line}\n`);

const other = revisionArg === 'none' ? undefined : (log(`building ${revisionArg} beside this checkout`), baselineBuild(revisionArg));
try {
  const result = await perCallScenarios(other, { quick, log, scenarios: scenarioArg === 'all' ? PER_CALL_SCENARIOS : [scenarioArg as PerCallScenario] });
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(
    join('bench', 'results', 'per-call-latest.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, ...result.json }, null, 2)}\n`,
  );
  const table = ['| scenario | llm-ledger | baseline (same run) | target |', '| --- | --- | --- | --- |', ...result.mainRows].join('\n');
  writeFileSync(join('bench', 'results', 'per-call-latest.md'), `${quick ? 'Smoke run (BENCH_QUICK=1)\n\n' : ''}${table}\n\n${result.markdown}\n`);
  log(`\n${table}\n\n${result.markdown}\n\nwritten to bench/results/per-call-latest.json and per-call-latest.md`);
} finally {
  other?.remove();
}

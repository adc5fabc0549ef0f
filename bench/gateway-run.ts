import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayOverhead } from './gateway.js';
import { checkTargets, gatewayDetailTable } from './gateway-report.js';

/**
 * The gateway scenario alone: `npm run build:bench && npx node bench-build/bench/gateway-run.js`
 * (BENCH_QUICK=1 for a smoke run; BENCH_CPU_PROF_DIR=<dir> for a CPU profile of the llm-ledger
 * gateway). Writes bench/results/gateway-latest.json and .md; `npm run bench` runs it too, into
 * latest.json and latest.md.
 */
const quick = process.env.BENCH_QUICK === '1';
const log = (line: string) => process.stdout.write(`${line}\n`);

log('gateway: latency added over calling the upstream directly (OpenAI chat completions, 127.0.0.1)');
const result = await gatewayOverhead({ quick, log, ...(process.env.BENCH_CPU_PROF_DIR ? { cpuProfileDir: process.env.BENCH_CPU_PROF_DIR } : {}) });
const table = gatewayDetailTable(result);
const checks = checkTargets(result);
const summary = checks.map((c) => `${c.met ? 'met' : 'MISSED'}: ${c.phase}, ${c.target}`).join('\n');

mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(
  join('bench', 'results', 'gateway-latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, gateway: result, targets: checks }, null, 2)}\n`,
);
writeFileSync(join('bench', 'results', 'gateway-latest.md'), `${table}\n`);
log(`\n${table}\n\n${summary}\n\nwritten to bench/results/gateway-latest.json and gateway-latest.md`);

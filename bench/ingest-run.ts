import { ledgerIngestRate, rawInsertRate } from './ingest.js';
import { latencyInOwnProcess } from './latency-process.js';
import { spread } from './spread.js';

/**
 * The SQLite ingest and latency scenarios alone: `npm run build:bench && npx node bench-build/bench/ingest-run.js`
 * (BENCH_QUICK=1 for a smoke run). Each round measures raw inserts, the ledger's rate and then
 * record() -> commit at half that rate in a process of its own (latency-process.ts), as `npm run bench` does; BENCH_ROUNDS rounds (default 3),
 * because one run on a shared machine says little, and the spread is part of the result.
 */
const quick = process.env.BENCH_QUICK === '1';
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const N = quick ? 5_000 : 100_000;
const log = (line: string) => process.stdout.write(`${line}\n`);

const results: { raw: number; ledger: number; offered: number; p50: number; p99: number; rawP50: number; rawP99: number }[] = [];
for (let round = 1; round <= rounds; round++) {
  const raw = rawInsertRate(N, 2048);
  const ledger = await ledgerIngestRate(N);
  const latency = await latencyInOwnProcess('ledger', Math.floor(ledger / 2), quick ? 2 : 5);
  const rawLatency = await latencyInOwnProcess('raw', latency.offeredPerSecond, quick ? 2 : 5);
  results.push({ raw, ledger, offered: latency.offeredPerSecond, p50: latency.p50Ms, p99: latency.p99Ms, rawP50: rawLatency.p50Ms, rawP99: rawLatency.p99Ms });
  log(
    `round ${round}: raw ${raw.toFixed(0)} rows/s, ledger ${ledger.toFixed(0)} records/s (${((ledger / raw) * 100).toFixed(0)}%); ` +
      `record() -> commit at ${latency.offeredPerSecond}/s: p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms; ` +
      `raw node:sqlite at that rate: p50 ${rawLatency.p50Ms.toFixed(2)} ms, p99 ${rawLatency.p99Ms.toFixed(2)} ms`,
  );
}

log(`\nmedian (range) of ${rounds} rounds:`);
log(
  `  ledger ${spread(
    results.map((r) => r.ledger),
    0,
    ' records/s',
  )}, ${spread(
    results.map((r) => (r.ledger / r.raw) * 100),
    0,
    '%',
  )} of raw ${spread(
    results.map((r) => r.raw),
    0,
    ' rows/s',
  )} (target >= 80%)`,
);
log(
  `  record() -> commit at half of it: p50 ${spread(
    results.map((r) => r.p50),
    2,
    ' ms',
  )}, p99 ${spread(
    results.map((r) => r.p99),
    2,
    ' ms',
  )} (target p99 < 10 ms)`,
);
log(
  `  raw node:sqlite, the same rows due at that rate, a commit every millisecond: p50 ${spread(
    results.map((r) => r.rawP50),
    2,
    ' ms',
  )}, p99 ${spread(
    results.map((r) => r.rawP99),
    2,
    ' ms',
  )}`,
);

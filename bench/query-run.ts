import { verifySeconds } from './ingest.js';
import { queryTimings, statsRowFigures, statsRowName } from './query.js';

/**
 * The verify and query scenario alone: `npm run build:bench && npx node bench-build/bench/query-run.js`
 * (BENCH_QUICK=1 for a smoke run). Builds a ledger of one million records through the Ledger, as
 * `npm run bench` does, verifies it, then times search and every shape of stats on it.
 */
const records = process.env.BENCH_QUICK === '1' ? 20_000 : 1_000_000;
const log = (line: string) => process.stdout.write(`${line}\n`);
log(`verify and queries: ${records} records`);
const { seconds, ok, also: queries } = await verifySeconds(records, queryTimings);
log(`  verify took ${seconds.toFixed(2)} s, ok=${ok}`);
log(`  search newest 50: ${queries.searchMs.toFixed(1)} ms, by model: ${queries.searchByModelMs.toFixed(1)} ms (target < 50 ms)`);
for (const [shape, ms] of Object.entries(queries.statsShapesMs)) log(`  stats ${shape}: ${ms.toFixed(0)} ms`);
log(`\n| ${statsRowName(queries, records)} | ${statsRowFigures(queries)} | - | < 1 s |`);

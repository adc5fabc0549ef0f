import { postgresRow, postgresScenario } from './postgres.js';

/** The PostgreSQL scenario alone: `npm run build:bench && npx node bench-build/bench/postgres-run.js` (BENCH_QUICK=1 for a smoke run). */
const log = (line: string) => process.stdout.write(`${line}\n`);
const result = await postgresScenario({ quick: process.env.BENCH_QUICK === '1', log });
log(`\n${postgresRow(result)}\n\n${JSON.stringify(result, null, 2)}`);

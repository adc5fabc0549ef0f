import { BENCH_DATABASE_URL, postgresIngest, postgresUnavailable } from './postgres.js';

/** The PostgreSQL scenario alone: `npm run build && npx node dist/bench/postgres-run.js` (BENCH_QUICK=1 for a smoke run). */
const count = process.env.BENCH_QUICK === '1' ? 10_000 : 100_000;
const unavailable = await postgresUnavailable(BENCH_DATABASE_URL);
if (unavailable) {
  process.stdout.write(`PostgreSQL bench skipped: ${unavailable}\n`);
} else {
  process.stdout.write(`ingest: ${count} realistic records into PostgreSQL (${new URL(BENCH_DATABASE_URL).host})\n`);
  const result = await postgresIngest(count, BENCH_DATABASE_URL, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

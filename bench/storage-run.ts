import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from './ab-compare.js';
import { compareStorage, storageBuilds } from './storage-per-call.js';

/**
 * `npx node bench-build/bench/storage-run.js`: records, database bytes and gateway CPU per call,
 * SQLite and PostgreSQL, 0 and 3 policies (storage-per-call.ts). BENCH_CALLS (default 2,000;
 * BENCH_QUICK=1: 200), BENCH_ROUNDS (default 1). Writes bench/results/storage-latest.json and .md.
 */
const calls = Number(process.env.BENCH_CALLS ?? (process.env.BENCH_QUICK === '1' ? 200 : 2_000));
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const log = (line: string) => process.stdout.write(`${line}\n`);

log(`storage per call: ${calls} calls through llm-ledger serve, hash-only`);
const result = await compareStorage(await storageBuilds(), calls, rounds, log);
const table = markdownTable(result.rows);
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(
  join('bench', 'results', 'storage-latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...result.json }, null, 2)}\n`,
);
writeFileSync(join('bench', 'results', 'storage-latest.md'), `Storage per call, ${calls} calls, ${rounds} round(s)\n\n${table}\n`);
log(`\n${table}\n\nwritten to bench/results/storage-latest.json and storage-latest.md`);

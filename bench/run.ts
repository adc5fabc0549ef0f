import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactionRate } from './pii.bench.js';
import { encryptionRate } from './content-cipher.bench.js';
import { callWithLongPromptAt, ledgerIngestRate, rawInsertRate, verifySeconds } from './ingest.js';
import { ingestInProcesses } from './ingest-processes.js';
import { latencyInOwnProcess } from './latency-process.js';
import { gatewayMainRows, gatewayOverhead } from './gateway.js';
import { gatewayDetailTable } from './gateway-report.js';
import { postgresRow, postgresScenario } from './postgres.js';
import { queryTimings, statsRowFigures, statsRowName } from './query.js';
import { buildRevision } from './ab-build.js';
import { compareIngest, compareLatency, markdownTable } from './ab-compare.js';
import { compareStorage, storageBuilds, storageMainRows } from './storage-per-call.js';
import { FORMAT_1_BASELINE, baselineBuild } from './per-call-builds.js';
import { perCallScenarios, type PerCallResults } from './per-call.js';

/**
 * `npm run bench`: every figure is measured in this run, beside its baseline, and written to
 * bench/results/latest.json and latest.md. Sizes shrink with BENCH_QUICK=1 for a smoke run.
 */
const quick = process.env.BENCH_QUICK === '1';
const N = quick ? 5_000 : 100_000;
const VERIFY_N = quick ? 20_000 : 1_000_000;

const log = (line: string) => process.stdout.write(`${line}\n`);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;

log(`ingest: ${N} realistic records (1-2 KB envelopes) into SQLite`);
const raw = rawInsertRate(N, 2048);
log(`  raw node:sqlite batched inserts:     ${raw.toFixed(0)} rows/s`);
const ledger = await ledgerIngestRate(N);
log(`  full Ledger path, hash-only capture:  ${ledger.toFixed(0)} records/s (${pct(ledger, raw)} of raw; target >= 80%)`);
const encrypted = await ledgerIngestRate(N, 'encrypted');
log(`  prompts and responses encrypted:      ${encrypted.toFixed(0)} records/s (${pct(encrypted, ledger)} of hash-only; target >= 60%)`);
const longHash = await ledgerIngestRate(N, 'hash-only', callWithLongPromptAt);
const longPii = await ledgerIngestRate(N, 'encrypted + PII redaction', callWithLongPromptAt);
log(
  `  2 KB prompts, encrypted + PII redaction: ${longPii.toFixed(0)} records/s (hash-only with the same prompts: ${longHash.toFixed(0)}, ${pct(longPii, longHash)})`,
);
const latency = await latencyInOwnProcess('ledger', Math.floor(ledger / 2), quick ? 2 : 5);
log(
  `  record() -> durable commit at ${latency.offeredPerSecond}/s offered: p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms (target p99 < 10 ms)`,
);
const rawLatency = await latencyInOwnProcess('raw', latency.offeredPerSecond, quick ? 2 : 5);
log(
  `  raw node:sqlite, the same rows due at the same rate, committed every millisecond: p50 ${rawLatency.p50Ms.toFixed(2)} ms, p99 ${rawLatency.p99Ms.toFixed(2)} ms`,
);
const oneProcess = await ingestInProcesses(N, 1);
const twoProcesses = await ingestInProcesses(N, 2);
log(
  `  two writer processes on one SQLite file: ${twoProcesses.recordsPerSecond.toFixed(0)} records/s together (${twoProcesses.perProcess.map((r) => r.toFixed(0)).join(' + ')}), ` +
    `one writer process: ${oneProcess.recordsPerSecond.toFixed(0)} records/s (${pct(twoProcesses.recordsPerSecond, oneProcess.recordsPerSecond)}); verified: ${oneProcess.verified && twoProcesses.verified}`,
);

log(`verify and queries: ${VERIFY_N} records`);
const verify = await verifySeconds(VERIFY_N, queryTimings);
const queries = verify.also;
log(`  verify took ${verify.seconds.toFixed(2)} s (target < 5 s), ok=${verify.ok}`);
log(`  search newest 50: ${queries.searchMs.toFixed(1)} ms, by model: ${queries.searchByModelMs.toFixed(1)} ms (target < 50 ms)`);
log(
  `  stats: ${queries.statsMs.toFixed(0)} ms, by model: ${queries.statsByModelMs.toFixed(0)} ms, slowest shape (${queries.statsSlowest.shape}): ${queries.statsSlowest.ms.toFixed(0)} ms (target < 1 s)`,
);

log('components');
const redaction = await redactionRate();
log(`  PII redaction of 2 KB prompts: ${Math.round(redaction.perSecond)} prompts/s (${redaction.microsPerPrompt.toFixed(1)} us each)`);
const encryption = await encryptionRate();
log(`  AES-256-GCM encryption of 2 KB prompts: ${Math.round(encryption.perSecond)} /s`);

log('gateway: latency added over calling the upstream directly (OpenAI chat completions, 127.0.0.1)');
const gateway = await gatewayOverhead({ quick, log });

const postgres = await postgresScenario({ quick, log });

log('storage per call: calls through llm-ledger serve, SQLite and PostgreSQL, 0 and 3 policies');
const storage = await compareStorage(await storageBuilds(), quick ? 200 : 2_000, 1, log);

// Issue 19's per-call figures beside the build before format 2 (BENCH_PER_CALL_BASELINE, default 6a250bb; `none`: this build alone).
const perCall = await perCallComparison(process.env.BENCH_PER_CALL_BASELINE ?? FORMAT_1_BASELINE);

// BENCH_BASELINE=<git revision>: that build's ingest rate, commit latency and storage per call beside this one's, in turns.
const baseline = await baselineComparison(process.env.BENCH_BASELINE, quick ? 1 : 3, N, Math.floor(ledger / 2));

const results = {
  date: new Date().toISOString(),
  node: process.version,
  records: N,
  ingest: {
    rawRowsPerSecond: Math.round(raw),
    ledgerRecordsPerSecond: Math.round(ledger),
    ratio: ledger / raw,
    encryptedRecordsPerSecond: Math.round(encrypted),
    encryptedRatio: encrypted / ledger,
    longPromptHashOnlyPerSecond: Math.round(longHash),
    longPromptEncryptedPiiPerSecond: Math.round(longPii),
  },
  latency,
  rawLatency,
  processes: { one: oneProcess, two: twoProcesses },
  verify: { records: VERIFY_N, seconds: verify.seconds, ok: verify.ok },
  queries,
  components: { redactionPerSecond: Math.round(redaction.perSecond), encryptionPerSecond: Math.round(encryption.perSecond) },
  gateway,
  postgres,
  storage: storage.json,
  perCall: perCall.json,
  ...(baseline ? { baseline: baseline.json } : {}),
};
const table = [
  '| scenario | llm-ledger | baseline (same run) | target |',
  '| --- | --- | --- | --- |',
  `| ingest, ${N} records into SQLite, hash-only | ${Math.round(ledger)} rec/s (${pct(ledger, raw)}) | raw node:sqlite ${Math.round(raw)} rows/s | >= 80% of raw |`,
  `| ingest, prompts and responses encrypted | ${Math.round(encrypted)} rec/s (${pct(encrypted, ledger)}) | hash-only ${Math.round(ledger)} rec/s | >= 60% of hash-only |`,
  `| ingest, 2 KB prompts, encrypted + PII redaction | ${Math.round(longPii)} rec/s (${pct(longPii, longHash)}) | hash-only, same prompts ${Math.round(longHash)} rec/s | - |`,
  `| record() to durable commit at ${latency.offeredPerSecond}/s | p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms | raw node:sqlite, same rows due at the same rate, a commit every ms: p50 ${rawLatency.p50Ms.toFixed(2)} ms, p99 ${rawLatency.p99Ms.toFixed(2)} ms | p99 < 10 ms |`,
  `| ingest, ${twoProcesses.records} records, two writer processes on one SQLite file | ${Math.round(twoProcesses.recordsPerSecond)} rec/s together (${pct(twoProcesses.recordsPerSecond, oneProcess.recordsPerSecond)}) | one writer process ${Math.round(oneProcess.recordsPerSecond)} rec/s | - |`,
  `| verify ${VERIFY_N} records | ${verify.seconds.toFixed(2)} s | - | < 5 s |`,
  `| search (newest 50; by model) on ${VERIFY_N} records | ${queries.searchMs.toFixed(1)} ms; ${queries.searchByModelMs.toFixed(1)} ms | - | < 50 ms |`,
  `| ${statsRowName(queries, VERIFY_N)} | ${statsRowFigures(queries)} | - | < 1 s |`,
  `| PII redaction, 2 KB prompts (component) | ${Math.round(redaction.perSecond)} prompts/s | - | - |`,
  `| AES-256-GCM encryption, 2 KB prompts (component) | ${Math.round(encryption.perSecond)} /s | - | - |`,
  ...gatewayMainRows(gateway),
  postgresRow(postgres),
  ...storageMainRows(storage),
  ...perCall.mainRows,
].join('\n');
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
// The gateway's figures per phase (CPU per call, each target's own percentiles) follow the summary.
writeFileSync(
  join('bench', 'results', 'latest.md'),
  `${table}\n\nGateway, per phase (milliseconds):\n\n${gatewayDetailTable(gateway)}\n\n${perCall.markdown}\n${baseline ? `\n${baseline.markdown}\n` : ''}`,
);
log(`\n${table}\n\nwritten to bench/results/latest.json and latest.md`);

/**
 * Saturation at c=64, PostgreSQL ingest in calls a second and verify of a million calls (per-call.ts),
 * this build beside `revision` built in a temporary worktree; this build alone with `none`, or when
 * the revision cannot be built here (said in the log and the table).
 */
async function perCallComparison(revision: string): Promise<PerCallResults> {
  let other;
  let failed: string | undefined;
  if (revision !== 'none') {
    log(`per call (issue 19), beside ${revision}: building it in a temporary worktree`);
    try {
      other = baselineBuild(revision);
    } catch (err) {
      failed = (err as Error).message.split('\n', 1)[0];
      log(`  ${failed}: this build alone`);
    }
  }
  try {
    const result = await perCallScenarios(other, { quick, log });
    if (failed) result.mainRows.unshift(`| per call, beside ${revision} | not measured: ${failed} | - | - |`);
    return result;
  } finally {
    other?.remove();
  }
}

/** This build beside another revision (built in a temporary worktree), ingest and latency in turns; undefined without one. */
async function baselineComparison(
  revision: string | undefined,
  rounds: number,
  count: number,
  offered: number,
): Promise<{ json: object; markdown: string } | undefined> {
  if (!revision) return undefined;
  log(`beside ${revision}: building it in a temporary worktree`);
  const other = buildRevision(revision);
  try {
    const ingest = await compareIngest(other, rounds, count, log);
    const latency = await compareLatency(other, rounds, offered, log);
    const storage = await compareStorage(await storageBuilds(other), quick ? 200 : 2_000, rounds, log);
    const title = `This build beside ${other.commit.slice(0, 12)} (${revision}), ${rounds} round(s) in turn, fresh processes`;
    return {
      json: { revision, commit: other.commit, ingest: ingest.json, latency: latency.json, storage: storage.json },
      markdown: `${title}:\n\n${markdownTable(ingest.rows)}\n\n${markdownTable(latency.rows)}\n\n${markdownTable(storage.rows)}`,
    };
  } finally {
    other.remove();
  }
}

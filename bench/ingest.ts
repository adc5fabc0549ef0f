import { defaultCapturePolicy } from '../src/capture/default-policy.js';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync } from 'node:fs';
import { corpus } from './pii.bench.js';
import { configSchema, type LedgerConfig } from '../src/config/schema.js';
import { Digester } from '../src/crypto/digest.js';
import type { Ledger, LedgerReader } from '../src/ledger/ledger.js';
import { openLedger } from '../src/ledger/open-ledger.js';
import { generateSignerKey } from '../src/log/checkpoint.js';
import { leafHash } from '../src/log/merkle.js';
import { sealEnvelope } from '../src/record/envelope.js';
import { parseRecordInput } from '../src/record/schema.js';
import type { RecordInput } from '../src/record/types.js';
import { SQLITE_CALL_STATS_SCHEMA, SQLITE_SCHEMA } from '../src/store/sqlite/sqlite-schema.js';
import { realisticCall } from '../src/record/test-support/realistic-calls.js';

/** The capture sections the ingest scenarios compare, in the configuration file's own terms. */
export const CAPTURE_SCENARIOS = {
  'hash-only': {},
  encrypted: { prompts: 'encrypted', responses: 'encrypted', pii: { enabled: false } },
  'encrypted + PII redaction': { prompts: 'encrypted', responses: 'encrypted', pii: { enabled: true } },
} as const;
export type CaptureScenario = keyof typeof CAPTURE_SCENARIOS;

export function benchConfig(dir: string, scenario: CaptureScenario = 'hash-only'): LedgerConfig {
  const base = configSchema(dir).parse({ capture: CAPTURE_SCENARIOS[scenario] });
  return { ...base, store: { ...base.store, type: 'sqlite', path: join(dir, 'bench.db') }, log: { ...base.log, anchor: { path: join(dir, 'anchor') } } };
}

/** A fixed key-encryption key for the encrypted scenarios. */
const BENCH_ENV = { LLM_LEDGER_KEK: Buffer.alloc(32, 9).toString('hex') };

/** One signing key for the whole run, so a ledger reopened for verify checks the checkpoints it signed. */
const runSignerKey = generateSignerKey('llm-ledger.local/default');

/** `signerKey`: another process's writer of the same ledger passes the key of the process that made it. */
export async function openBenchLedger(dir: string, scenario: CaptureScenario = 'hash-only', signerKey = runSignerKey): Promise<Ledger> {
  return openLedger(benchConfig(dir, scenario), { signerKey, digestKey: Buffer.alloc(32, 7), env: BENCH_ENV, onWarning: () => undefined });
}

/** The key the ledgers of this run are signed with, for writer processes of the same ledger. */
export const benchSignerKey = (): string => runSignerKey;

const tempDir = () => mkdtempSync(join(tmpdir(), 'llm-ledger-bench-'));

/** Calls the load generator cycles through; see `callAt`. */
const POOL_SIZE = 8192;
let pool: RecordInput[] | undefined;

/**
 * The i-th call of a run, from a pool built once. Building every call of a million-record run
 * up front would keep them all alive and make the ledger pay for collecting the load
 * generator's garbage; building each one on demand would time the generator. A gateway holds
 * only the requests in flight, as this does. Every record still gets its own id and time.
 */
export function callAt(i: number): RecordInput {
  // Copies, made by structuredClone: the pool lives as long as the process, and were its calls
  // realisticCall's own objects, V8 would learn that objects made there live long and allocate
  // the calls built later, one per record (the latency scenario's), in the old generation, which
  // a gateway's requests are not: that run's scavenges then took 10-30 ms.
  pool ??= Array.from({ length: POOL_SIZE }, (_, j) => structuredClone(realisticCall(j)));
  return pool[i % POOL_SIZE]!;
}

/**
 * Records calls [from, to) keeping `outstanding` in flight, submitting a new one as each
 * commits: producers keep working while a batch commits, as a busy gateway's requests do.
 */
export function recordAll(ledger: Ledger, from: number, to: number, outstanding = 8192, inputAt: (i: number) => RecordInput = callAt): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = from;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < outstanding && next < to) {
        inFlight++;
        ledger.record(inputAt(next++)).then(() => {
          inFlight--;
          if (next < to) pump();
          else if (inFlight === 0) resolve();
        }, reject);
      }
    };
    pump();
  });
}

let prompts: string[] | undefined;

/** `callAt(i)` with a 2 KB prompt from the PII benchmark's corpus (a third carry PII or secrets) as its input. */
export function callWithLongPromptAt(i: number): RecordInput {
  prompts ??= corpus(256);
  const call = callAt(i);
  return { ...call, content: { ...call.content, input: prompts[i % prompts.length]! } };
}

/** Records/s through the whole Ledger path: validate, capture, seal, hash, group commit, checkpoint. */
export async function ledgerIngestRate(count: number, scenario: CaptureScenario = 'hash-only', inputAt: (i: number) => RecordInput = callAt): Promise<number> {
  const dir = tempDir();
  const ledger = await openBenchLedger(dir, scenario);
  inputAt(0);
  const start = performance.now();
  await recordAll(ledger, 0, count, 8192, inputAt);
  const seconds = (performance.now() - start) / 1000;
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return count / seconds;
}

/** Calls `[0, count)` sealed beforehand, as the raw baselines insert them: id, canonical envelope, leaf hash. */
function sealedRows(count: number, inputAt: (i: number) => RecordInput): { id: string; canonical: string; leaf: Buffer }[] {
  const ctx = { capture: defaultCapturePolicy(new Digester('hmac-sha256', Buffer.alloc(32, 7))), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };
  return Array.from({ length: count }, (_, i) => {
    const { envelope, canonical } = sealEnvelope(parseRecordInput(inputAt(i)), ctx);
    return { id: envelope.id, canonical, leaf: leafHash(Buffer.from(canonical)) };
  });
}

/** A database with the ledger's schema, indexes and the writer thread's pragmas, bar the checkpointer it has and this lacks. */
function openRawDatabase(dir: string): { db: DatabaseSync; insert: (i: number, row: { id: string; canonical: string; leaf: Buffer }) => void } {
  const db = new DatabaseSync(join(dir, 'raw.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;');
  db.exec(SQLITE_SCHEMA);
  db.exec(SQLITE_CALL_STATS_SCHEMA);
  const insertRecord = db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)');
  const insertLeaf = db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)');
  return {
    db,
    insert: (i, row) => {
      insertRecord.run(i, row.id, row.canonical);
      insertLeaf.run(i, row.leaf);
    },
  };
}

/** The same rows, sealed beforehand, inserted with plain node:sqlite: same schema, indexes, pragmas and batch size. */
export function rawInsertRate(count: number, batchSize: number): number {
  const rows = sealedRows(count, callAt);
  const dir = tempDir();
  const { db, insert } = openRawDatabase(dir);
  const start = performance.now();
  for (let b = 0; b < count; b += batchSize) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = b; i < Math.min(count, b + batchSize); i++) insert(i, rows[i]!);
    db.exec('COMMIT');
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return count / seconds;
}

export interface LatencyResult {
  offeredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  recorded: number;
}

/**
 * Offers records at a steady rate and measures record() -> durable commit for each, after a
 * warm-up second (thread start, JIT) whose figures are discarded: this is steady-state latency.
 * Each call is built when it is offered, as a gateway builds each record from its request: the
 * pool that `callAt` keeps for the throughput runs would add tens of megabytes of long-lived
 * objects to the heap that every full collection on this thread marks, which no gateway has.
 */
export async function commitLatency(offeredPerSecond: number, seconds: number, warmupSeconds = 1): Promise<LatencyResult> {
  const dir = tempDir();
  const ledger = await openBenchLedger(dir);
  const latencies = new Float64Array(Math.ceil(offeredPerSecond * (warmupSeconds + seconds)) + 16);
  let measured = 0;
  let outstanding = 0;
  const start = performance.now();
  const measureFrom = start + warmupSeconds * 1000;
  let sent = 0;
  while (performance.now() - start < (warmupSeconds + seconds) * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * offeredPerSecond);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      outstanding++;
      void ledger.record(realisticCall(sent)).then(() => {
        outstanding--;
        if (t0 >= measureFrom) latencies[measured++] = performance.now() - t0;
      });
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  while (outstanding > 0) await new Promise((r) => setTimeout(r, 1));
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return latencyResult(offeredPerSecond, latencies.subarray(0, measured));
}

/**
 * The baseline of `commitLatency`: the same realistic calls, sealed beforehand, offered at the same
 * rate and committed the plainest durable way, with plain node:sqlite on one thread: every
 * millisecond one transaction of the rows that fell due, with SQLite's own automatic checkpoints.
 * Each row's latency runs from the moment it fell due to the end of its commit, so its tail is the
 * disk's commits (an fsync of the WAL each) and the rows waiting behind a slow one.
 */
export async function rawCommitLatency(offeredPerSecond: number, seconds: number, warmupSeconds = 1): Promise<LatencyResult> {
  const rows = sealedRows(Math.ceil(offeredPerSecond * (warmupSeconds + seconds)) + 16, realisticCall);
  const dir = tempDir();
  const { db, insert } = openRawDatabase(dir);
  const latencies = new Float64Array(rows.length);
  let measured = 0;
  let sent = 0;
  const start = performance.now();
  const dueAt = (i: number) => start + (i / offeredPerSecond) * 1000;
  while (performance.now() - start < (warmupSeconds + seconds) * 1000) {
    const due = Math.min(rows.length, Math.floor(((performance.now() - start) / 1000) * offeredPerSecond));
    if (due > sent) {
      const first = sent;
      db.exec('BEGIN IMMEDIATE');
      for (; sent < due; sent++) insert(sent, rows[sent]!);
      db.exec('COMMIT');
      const committed = performance.now();
      for (let i = first; i < sent; i++) if (dueAt(i) >= start + warmupSeconds * 1000) latencies[measured++] = committed - dueAt(i);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return latencyResult(offeredPerSecond, latencies.subarray(0, measured));
}

function latencyResult(offeredPerSecond: number, latencies: Float64Array): LatencyResult {
  const sorted = latencies.sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return { offeredPerSecond, p50Ms: at(0.5), p99Ms: at(0.99), recorded: sorted.length };
}

/**
 * Builds a ledger of `count` records through the ledger, reopens it read-only (as an auditor's
 * tools do), times a full verify, then hands the open ledger to `alsoMeasure` (query timings on
 * the same million records) before removing it.
 */
export async function verifySeconds<T>(count: number, alsoMeasure: (ledger: LedgerReader) => Promise<T>): Promise<{ seconds: number; ok: boolean; also: T }> {
  const dir = tempDir();
  const writer = await openBenchLedger(dir);
  await recordAll(writer, 0, count);
  await writer.close();
  const ledger = await openLedger(benchConfig(dir), { signerKey: runSignerKey, digestKey: Buffer.alloc(32, 7), readOnly: true, onWarning: () => undefined });
  try {
    const start = performance.now();
    const report = await ledger.verify();
    const seconds = (performance.now() - start) / 1000;
    return { seconds, ok: report.ok && report.size === count, also: await alsoMeasure(ledger) };
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

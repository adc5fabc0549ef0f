import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync } from 'node:fs';
import { defaultConfig, type LedgerConfig } from '../config/schema.js';
import { Digester } from '../crypto/digest.js';
import type { Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open-ledger.js';
import { generateSignerKey } from '../log/checkpoint.js';
import { leafHash } from '../log/merkle.js';
import { sealEnvelope } from '../record/envelope.js';
import { parseRecordInput } from '../record/schema.js';
import type { RecordInput } from '../record/types.js';
import { SQLITE_SCHEMA } from '../store/sqlite-schema.js';
import { realisticCall } from './workload.js';

export function benchConfig(dir: string): LedgerConfig {
  const base = defaultConfig(dir);
  return { ...base, store: { ...base.store, type: 'sqlite', path: join(dir, 'bench.db') }, log: { ...base.log, anchor: { path: join(dir, 'anchor') } } };
}

/** One signing key for the whole run, so a ledger reopened for verify checks the checkpoints it signed. */
const signerKey = generateSignerKey('llm-ledger.local/default');

export async function openBenchLedger(dir: string): Promise<Ledger> {
  return openLedger(benchConfig(dir), { signerKey, digestKey: Buffer.alloc(32, 7), onWarning: () => undefined });
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'llm-ledger-bench-'));

/**
 * Keeps `outstanding` records in flight, submitting a new one as each commits: producers keep
 * working while a batch commits, as a busy gateway's requests do.
 */
export function recordAll(ledger: Ledger, inputs: readonly RecordInput[], outstanding = 8192): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < outstanding && next < inputs.length) {
        inFlight++;
        ledger.record(inputs[next++]).then(() => {
          inFlight--;
          if (next < inputs.length) pump();
          else if (inFlight === 0) resolve();
        }, reject);
      }
    };
    pump();
  });
}

/** Records/s through the whole Ledger path: validate, seal, hash, group commit, checkpoint. */
export async function ledgerIngestRate(count: number): Promise<number> {
  const dir = tempDir();
  const ledger = await openBenchLedger(dir);
  const inputs = Array.from({ length: count }, (_, i) => realisticCall(i));
  const start = performance.now();
  await recordAll(ledger, inputs);
  const seconds = (performance.now() - start) / 1000;
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return count / seconds;
}

/** The same rows, sealed beforehand, inserted with plain node:sqlite: same schema, indexes, pragmas and batch size. */
export function rawInsertRate(count: number, batchSize: number): number {
  const ctx = { digester: new Digester('hmac-sha256', Buffer.alloc(32, 7)), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };
  const rows = Array.from({ length: count }, (_, i) => {
    const { envelope, canonical } = sealEnvelope(parseRecordInput(realisticCall(i)), ctx);
    return { id: envelope.id, canonical, leaf: leafHash(Buffer.from(canonical)) };
  });
  const dir = tempDir();
  const db = new DatabaseSync(join(dir, 'raw.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
  db.exec(SQLITE_SCHEMA);
  const insertRecord = db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)');
  const insertLeaf = db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)');
  const start = performance.now();
  for (let b = 0; b < count; b += batchSize) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = b; i < Math.min(count, b + batchSize); i++) {
      const row = rows[i]!;
      insertRecord.run(i, row.id, row.canonical);
      insertLeaf.run(i, row.leaf);
    }
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
  const sorted = latencies.subarray(0, measured).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return { offeredPerSecond, p50Ms: at(0.5), p99Ms: at(0.99), recorded: measured };
}

/** Builds a ledger of `count` records through the ledger, then times a full verify. */
export async function verifySeconds(count: number): Promise<{ seconds: number; ok: boolean }> {
  const dir = tempDir();
  let ledger = await openBenchLedger(dir);
  const chunk = 50_000;
  for (let i = 0; i < count; i += chunk) {
    await recordAll(ledger, Array.from({ length: Math.min(chunk, count - i) }, (_, j) => realisticCall(i + j)));
  }
  await ledger.close();
  ledger = await openBenchLedger(dir);
  const start = performance.now();
  const report = await ledger.verify();
  const seconds = (performance.now() - start) / 1000;
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return { seconds, ok: report.ok && report.size === count };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { NO_JIT } from '../src/store/postgres/postgres-connection.js';
import { defaultCapturePolicy } from '../src/capture/default-policy.js';
import { Digester } from '../src/crypto/digest.js';
import { openLedger } from '../src/ledger/open-ledger.js';
import { leafHash } from '../src/log/merkle.js';
import { sealEnvelope } from '../src/record/envelope.js';
import { parseRecordInput } from '../src/record/schema.js';
import { timeOf } from '../src/store/postgres/postgres-partitions.js';
import { rolesOf } from '../src/store/postgres/postgres-schema.js';
import type { NewEntry } from '../src/store/store.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { callAt } from './ingest.js';
import { timedBatches } from './postgres-batches.js';
import { copyRate } from './postgres-copy.js';
import { ServerMeter, type ServerCost } from './postgres-cost.js';
import { designRates } from './postgres-designs.js';

/** Where the bench writes: LLM_LEDGER_BENCH_DATABASE_URL, else the test server CI runs. */
export const BENCH_DATABASE_URL = process.env.LLM_LEDGER_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresIngestResult {
  records: number;
  /** CPU cores of this machine, which the writer processes and a local server share. */
  cores: number;
  /**
   * Ledger.record() into one schema from this many writer processes: records/s from `go` to the
   * last acknowledgement, and the CPU the writer processes and the server spent per record.
   */
  writers: ({ processes: number; recordsPerSecond: number; integrationLagMs: number; writerCpuMicrosPerRecord: number } & ServerCost)[];
  /** Multi-row INSERTs of the same rows (records and leaves, indexes given), from 1 and from 4 connections. */
  raw: ({ connections: number; rowsPerSecond: number } & ServerCost)[];
  /** COPY FROM STDIN of the same rows from 4 connections: the server's own ceiling for them. */
  copy: { connections: number; rowsPerSecond: number } & ServerCost;
  /** The database alone, the same rows from 4 connections: this store's log head beside a sequence-then-integrate queue. */
  designs: { writers: number; logHeadRowsPerSecond: number; queueRowsPerSecond: number };
  /** The 4-writer log verified afterwards. */
  verified: boolean;
}

/** Why PostgreSQL cannot be benched here, or undefined when it can. */
export async function postgresUnavailable(url = BENCH_DATABASE_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${new URL(url).host} is unreachable (${(err as Error).message}); set LLM_LEDGER_BENCH_DATABASE_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Records/s into PostgreSQL with 1 and 4 writer processes sharing one log (the many-writers mode
 * every PostgreSQL ledger uses), beside raw multi-row INSERTs of the same rows from 1 and 4
 * connections, all in this run and on fresh schemas.
 */
export async function postgresIngest(count: number, url = BENCH_DATABASE_URL, log: (line: string) => void = () => undefined): Promise<PostgresIngestResult> {
  const made: string[] = [];
  const schema = () => {
    const name = `llb_${process.pid}_${made.length}`;
    made.push(name);
    return name;
  };
  const cores = availableParallelism();
  try {
    const rows = sealedRows(count);
    const raw = [];
    for (const connections of [1, 4]) {
      const { rowsPerSecond, cost } = await rawInsertRate(url, await migrated(url, schema()), rows, connections);
      log(`  raw multi-row INSERTs, ${connections} connection(s): ${rowsPerSecond.toFixed(0)} rows/s (${costLine(cost)})`);
      raw.push({ connections, rowsPerSecond, ...cost });
    }
    const copied = await copyRate(url, await migrated(url, schema()), rows, 4);
    const copy = { connections: 4, rowsPerSecond: copied.rowsPerSecond, ...copied.cost };
    log(`  COPY FROM STDIN, 4 connections: ${copy.rowsPerSecond.toFixed(0)} rows/s (${costLine(copied.cost)})`);
    const designs = await designRates(url, { head: await migrated(url, schema()), queue: await migrated(url, schema()) }, rows, 4);
    log(`  SQL alone, 4 writers: log head ${designs.head.toFixed(0)} rows/s; sequence-then-integrate through a queue ${designs.queue.toFixed(0)} rows/s`);
    const writers = [];
    let verified = false;
    for (const processes of [1, 4]) {
      const name = schema();
      const result = await writerRate(url, name, count, processes);
      const perRecord = result.writerCpuMicrosPerRecord + (result.serverCpuMicrosPerRecord ?? 0);
      log(
        `  Ledger.record(), ${processes} writer process(es): ${result.recordsPerSecond.toFixed(0)} records/s; last checkpoint ${result.integrationLagMs.toFixed(0)} ms after the last acknowledgement; ` +
          `CPU per record: writers ${result.writerCpuMicrosPerRecord} us, ${costLine(result)}; ${cores} cores at ${perRecord} us a record: at most ${Math.round((cores * 1e6) / perRecord)} records/s`,
      );
      writers.push({ processes, ...result });
      if (processes === 4) verified = result.verified;
    }
    return {
      records: count,
      cores,
      writers: writers.map(({ verified: _, ...writer }) => writer),
      raw,
      copy,
      designs: { writers: 4, logHeadRowsPerSecond: designs.head, queueRowsPerSecond: designs.queue },
      verified,
    };
  } finally {
    await dropSchemas(url, made);
  }
}

/** Realistic calls sealed as the ledger seals them (hash-only capture), with their leaf hashes. */
function sealedRows(count: number): (NewEntry & { ts: string })[] {
  const ctx = { capture: defaultCapturePolicy(new Digester('hmac-sha256', Buffer.alloc(32, 7))), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };
  return Array.from({ length: count }, (_, i) => {
    const { envelope, canonical } = sealEnvelope(parseRecordInput(callAt(i)), ctx);
    return { id: envelope.id, ts: timeOf(canonical), canonical, leafHash: leafHash(Buffer.from(canonical)) };
  });
}

/** A fresh schema at the current version, with its partitions. */
async function migrated(url: string, schema: string): Promise<string> {
  const store = openPostgresStore({ url, schema });
  await store.size();
  await store.close();
  return schema;
}

/** The same rows the writers store: records and leaves at given indexes, `connections` statements at a time. */
function rawInsertRate(url: string, schema: string, rows: readonly (NewEntry & { ts: string })[], connections: number) {
  const s = `"${schema}"`;
  // Plain multi-row VALUES: no array literal to parse, one statement for a batch's records and leaves.
  return timedBatches(url, rows.length, connections, (client, from, to) => {
    const records: string[] = [];
    const leaves: string[] = [];
    const values: unknown[] = [];
    for (let i = from; i < to; i++) {
      const r = rows[i]!;
      const k = values.push(i, r.ts, r.canonical, r.leafHash, r.id) - 5;
      records.push(`($${k + 1}::bigint, $${k + 2}::timestamptz, $${k + 3}::text)`);
      leaves.push(`($${k + 1}::bigint, $${k + 4}::bytea, $${k + 5}::text, $${k + 2}::timestamptz)`);
    }
    return client.query({
      text: `WITH r AS (INSERT INTO ${s}.records (idx, ts, canonical) VALUES ${records.join(', ')}) INSERT INTO ${s}.leaves (idx, hash, id, ts) VALUES ${leaves.join(', ')}`,
      values,
    });
  });
}

interface Writer {
  child: ChildProcess;
  lines: AsyncIterator<string>;
}

/** `processes` writer processes on one fresh schema share `count` records; timed from `go` to the last `done`. */
async function writerRate(
  url: string,
  schema: string,
  count: number,
  processes: number,
): Promise<{ recordsPerSecond: number; integrationLagMs: number; writerCpuMicrosPerRecord: number; verified: boolean } & ServerCost> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-pg-'));
  const config = join(dir, 'llm-ledger.yaml');
  writeFileSync(
    config,
    `store: { type: postgres, url: '${url}', schema: ${schema} }\nlog: { signing_key_file: signing.key, anchor: { path: anchor } }\ndigest: { key_file: digest.key }\n`,
  );
  // Created once here (keys, schema), so the writers start on a ready ledger.
  await (await openLedger(config, { onWarning: () => undefined })).close();
  const script = fileURLToPath(new URL('./postgres-writer.js', import.meta.url));
  const share = Math.ceil(count / processes);
  const writers: Writer[] = Array.from({ length: processes }, (_, p) => {
    const child = spawn(process.execPath, [script, config, String(p * share), String(Math.min(count, (p + 1) * share))], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
  });
  try {
    await Promise.all(writers.map((w) => expectLine(w, 'ready')));
    const meter = await ServerMeter.start(url);
    const start = performance.now();
    for (const w of writers) w.child.stdin!.write('go\n');
    const cpuMicros = await Promise.all(writers.map((w) => doneLine(w)));
    const seconds = (performance.now() - start) / 1000;
    const cost = await meter.stop(count);
    const acknowledged = performance.now();
    const integrationLagMs = (await checkpointCovers(url, schema, count)) - acknowledged;
    for (const w of writers) w.child.stdin!.write('close\n');
    await Promise.all(writers.map((w) => expectLine(w, 'closed')));
    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    const report = await reader.verify();
    await reader.close();
    const writerCpuMicrosPerRecord = Math.round(cpuMicros.reduce((a, b) => a + b, 0) / count);
    return { recordsPerSecond: count / seconds, integrationLagMs, writerCpuMicrosPerRecord, ...cost, verified: report.ok && report.verifiedSize === count };
  } finally {
    for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function expectLine(writer: Writer, expected: string): Promise<void> {
  const { value, done } = await writer.lines.next();
  if (done || value !== expected) throw new Error(`a bench writer process said ${done ? 'nothing (it exited)' : JSON.stringify(value)} instead of ${expected}`);
}

/** A writer's `done <CPU microseconds it spent since go>`. */
async function doneLine(writer: Writer): Promise<number> {
  const { value, done } = await writer.lines.next();
  const match = /^done (\d+)$/.exec(done ? '' : (value as string));
  if (!match) throw new Error(`a bench writer process said ${done ? 'nothing (it exited)' : JSON.stringify(value)} instead of done`);
  return Number(match[1]);
}

function costLine(cost: ServerCost): string {
  const cpu = cost.serverCpuMicrosPerRecord === undefined ? '' : `server CPU ${cost.serverCpuMicrosPerRecord} us a row, `;
  return `${cpu}WAL ${cost.walBytesPerRecord} bytes a row`;
}

/** When (performance.now()) a checkpoint first covered `size` records, polled every 10 ms. */
async function checkpointCovers(url: string, schema: string, size: number): Promise<number> {
  const client = new pg.Client({ connectionString: url, options: NO_JIT });
  await client.connect();
  try {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const { rows } = await client.query<{ size: string | null }>(`SELECT max(size) AS size FROM "${schema}".checkpoints`);
      if (Number(rows[0]?.size ?? 0) >= size) return performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no checkpoint covered ${size} records within 60 s`);
  } finally {
    await client.end();
  }
}

async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: NO_JIT });
  await client.connect();
  try {
    for (const schema of schemas) {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      for (const role of Object.values(rolesOf(schema))) {
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
        if (exists.rowCount === 0) continue;
        await client.query(`DROP OWNED BY "${role}"`);
        await client.query(`DROP ROLE "${role}"`);
      }
    }
  } finally {
    await client.end();
  }
}

/** The scenario as `npm run bench` runs it: skipped, with the reason printed, when PostgreSQL cannot be reached. */
export async function postgresScenario(options: { quick: boolean; log: (line: string) => void }): Promise<PostgresIngestResult | { skipped: string }> {
  const unavailable = await postgresUnavailable();
  if (unavailable) {
    options.log(`PostgreSQL: skipped: ${unavailable}`);
    return { skipped: unavailable };
  }
  const count = options.quick ? 10_000 : 100_000;
  options.log(`PostgreSQL: ${count} realistic records, many-writers mode (${new URL(BENCH_DATABASE_URL).host})`);
  return postgresIngest(count, BENCH_DATABASE_URL, options.log);
}

/** The scenario's row in the bench table. */
export function postgresRow(result: PostgresIngestResult | { skipped: string }): string {
  if ('skipped' in result)
    return `| ingest into PostgreSQL, 1 and 4 writer processes | skipped: ${result.skipped} | - | >= 20,000 rec/s with 4 writers, >= 70% of raw |`;
  const one = result.writers.find((w) => w.processes === 1)!;
  const four = result.writers.find((w) => w.processes === 4)!;
  const raw = result.raw.find((r) => r.connections === 4)!;
  const raw1 = result.raw.find((r) => r.connections === 1)!;
  const cpu =
    four.serverCpuMicrosPerRecord === undefined
      ? ''
      : `; CPU a record: writers ${four.writerCpuMicrosPerRecord} us + server ${four.serverCpuMicrosPerRecord} us on ${result.cores} cores`;
  return `| ingest, ${result.records} records into PostgreSQL, 1 / 4 writer processes | ${Math.round(one.recordsPerSecond)} / ${Math.round(four.recordsPerSecond)} rec/s (4 writers: ${((four.recordsPerSecond / raw.rowsPerSecond) * 100).toFixed(0)}% of raw${cpu}) | raw multi-row INSERTs, 1 / 4 connections: ${Math.round(raw1.rowsPerSecond)} / ${Math.round(raw.rowsPerSecond)} rows/s; COPY, 4 connections: ${Math.round(result.copy.rowsPerSecond)} rows/s | >= 20,000 rec/s with 4 writers, >= 70% of raw |`;
}

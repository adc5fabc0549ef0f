import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { openLedger } from '../src/ledger/open-ledger.js';
import { startFakeUpstream } from '../src/providers/simulated/fake-upstream.js';
import { rolesOf } from '../src/store/postgres/postgres-schema.js';
import type { OtherBuild } from './ab-build.js';
import { startLedgerGateway, writeLedgerGatewayConfig, type GatewayProcess } from './gateway-processes.js';
import { BENCH_DATABASE_URL, postgresUnavailable } from './postgres.js';

/**
 * Storage per call (issue 19): N calls through a real `llm-ledger serve` (the official openai
 * client, plain and streamed chat completions, four users, hash-only capture), without policies
 * and with the gateway benchmark's three (BENCH_POLICIES: a model allow-list, PII redaction, a
 * rate limit far above the load), then, with the gateway stopped: records per call, database
 * bytes per call (SQLite: the file after `PRAGMA wal_checkpoint(TRUNCATE)`; PostgreSQL: what the
 * fresh schema grew by, `pg_total_relation_size` of its tables), each table's share (dbstat,
 * pg_table_size / pg_indexes_size) and the gateway's CPU per call.
 */

export type StorageStore = 'sqlite' | 'postgres';

/** Starts `llm-ledger serve` with a configuration file: this build's startLedgerGateway, or another build's. */
export type StartGateway = (configFile: string) => Promise<GatewayProcess>;

export interface StorageFigures {
  store: StorageStore;
  policies: number;
  calls: number;
  records: number;
  recordsPerCall: number;
  /** SQLite: the checkpointed file; PostgreSQL: the schema's growth from the gateway's start. */
  bytes: number;
  bytesPerCall: number;
  /** Per table (PostgreSQL: its growth), its own bytes and its indexes' bytes, per call. */
  tables: Record<string, { table: number; indexes: number }>;
  /** CPU (user + system, every thread) of the gateway process from its first call to 500 ms after its last, per call; Linux only. */
  cpuMsPerCall?: number;
  verified: boolean;
}

const USERS = ['alice', 'bob', 'carol', 'dave'];

/** One configuration, one build: a fresh ledger, `calls` calls, the gateway stopped, then measured. */
export async function storagePerCall(start: StartGateway, store: StorageStore, policies: boolean, calls: number): Promise<StorageFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-storage-'));
  const schema = `llsb_${process.pid}_${Date.now().toString(36)}`;
  const upstream = await startFakeUpstream();
  try {
    const configFile = writeLedgerGatewayConfig(dir, upstream.url, { policies });
    if (store === 'postgres') {
      const postgresStore = `store:\n  type: postgres\n  url: ${BENCH_DATABASE_URL}\n  schema: ${schema}\n`;
      writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('store:\n  path: ledger.db\n', postgresStore));
    }
    const gateway = await start(configFile);
    let cpuMs: number | undefined;
    let before: Sizes = { total: 0, tables: {} };
    try {
      if (store === 'postgres') before = await postgresSizes(schema);
      const cpuBefore = processCpuMs(gateway.pid);
      await sendCalls(gateway.url, calls);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cpuAfter = processCpuMs(gateway.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) cpuMs = cpuAfter - cpuBefore;
    } finally {
      await gateway.stop();
    }
    const ledger = await openLedger(loadConfig({ path: configFile }), { readOnly: true, onWarning: () => undefined });
    let records: number;
    let verified: boolean;
    try {
      records = await ledger.size();
      verified = (await ledger.verify()).ok;
    } finally {
      await ledger.close();
    }
    const sizes = store === 'sqlite' ? sqliteSizes(join(dir, 'ledger.db')) : await postgresSizes(schema);
    const bytes = sizes.total - before.total;
    const perCall = (n: number) => Math.round(n / calls);
    const grown = (name: string, t: { table: number; indexes: number }) => ({
      table: perCall(t.table - (before.tables[name]?.table ?? 0)),
      indexes: perCall(t.indexes - (before.tables[name]?.indexes ?? 0)),
    });
    return {
      store,
      policies: policies ? 3 : 0,
      calls,
      records,
      recordsPerCall: records / calls,
      bytes,
      bytesPerCall: perCall(bytes),
      tables: Object.fromEntries(Object.entries(sizes.tables).map(([name, t]) => [name, grown(name, t)])),
      ...(cpuMs === undefined ? {} : { cpuMsPerCall: cpuMs / calls }),
      verified,
    };
  } finally {
    await upstream.close();
    if (store === 'postgres') await dropSchema(schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The mix: every other call streamed, four users, four at a time; each answer read to its end. */
async function sendCalls(gatewayUrl: string, calls: number): Promise<void> {
  const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: 'sk-bench-storage', maxRetries: 0 });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < calls; i = next++) {
      const body = {
        model: i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini',
        messages: [
          { role: 'system' as const, content: 'You are a concise assistant.' },
          { role: 'user' as const, content: `Summarise ticket ${i} in one sentence.` },
        ],
      };
      const headers = { 'x-llm-ledger-user': USERS[i % USERS.length]! };
      if (i % 2 === 1) {
        const stream = await client.chat.completions.create({ ...body, stream: true }, { headers });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        if (text === '') throw new Error(`call ${i}: an empty stream`);
      } else {
        const answer = await client.chat.completions.create(body, { headers });
        if (!answer.choices[0]?.message.content) throw new Error(`call ${i}: no answer`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

interface Sizes {
  total: number;
  tables: Record<string, { table: number; indexes: number }>;
}

function sqliteSizes(file: string): Sizes {
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const tables: Sizes['tables'] = {};
    try {
      const rows = db
        .prepare(
          'SELECT m.tbl_name AS tbl, m.type AS type, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_schema m ON m.name = s.name GROUP BY m.tbl_name, m.type',
        )
        .all() as { tbl: string; type: string; bytes: number }[];
      for (const row of rows) {
        const t = (tables[row.tbl] ??= { table: 0, indexes: 0 });
        if (row.type === 'index') t.indexes += row.bytes;
        else t.table += row.bytes;
      }
    } catch {
      // no dbstat in this SQLite: the file size alone
    }
    return { total: statSync(file).size, tables };
  } finally {
    db.close();
  }
}

/** Tables of the schema (day partitions counted under their parent's name), each with its TOAST and indexes. */
async function postgresSizes(schema: string): Promise<Sizes> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; table: string; indexes: string }>(
      `SELECT regexp_replace(c.relname, '_[0-9]{8}$', '') AS name, SUM(pg_table_size(c.oid)) AS table, SUM(pg_indexes_size(c.oid)) AS indexes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'm') GROUP BY 1`,
      [schema],
    );
    const tables = Object.fromEntries(rows.map((r) => [r.name, { table: Number(r.table), indexes: Number(r.indexes) }]));
    return { total: Object.values(tables).reduce((sum, t) => sum + t.table + t.indexes, 0), tables };
  } finally {
    await client.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const role of Object.values(rolesOf(schema))) {
      if ((await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 0) continue;
      await client.query(`DROP OWNED BY "${role}"`);
      await client.query(`DROP ROLE "${role}"`);
    }
  } finally {
    await client.end();
  }
}

/** CPU time (user + system, every thread) of a process, from /proc, in ms; undefined elsewhere than Linux. USER_HZ is 100. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface StorageComparison {
  rows: string[][];
  json: { calls: number; rounds: number; skipped?: string; runs: (StorageFigures & { build: string; round: number })[] };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Every build on every configuration (SQLite and, when reachable, PostgreSQL; 0 and 3 policies),
 * the builds taking turns within each configuration, round after round; medians over the rounds.
 */
export async function compareStorage(
  builds: { name: string; start: StartGateway }[],
  calls: number,
  rounds: number,
  log: (line: string) => void,
): Promise<StorageComparison> {
  const skipped = await postgresUnavailable();
  if (skipped) log(`  PostgreSQL: skipped: ${skipped}`);
  const runs: StorageComparison['json']['runs'] = [];
  const rows = [['store, policies', 'build', 'records a call', 'bytes a call', 'of which records table + indexes', 'CPU ms a call', 'verified']];
  for (const store of (skipped ? ['sqlite'] : ['sqlite', 'postgres']) as StorageStore[]) {
    for (const policies of [false, true]) {
      const mine: typeof runs = [];
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < builds.length; k++) {
          const build = builds[(round + k) % builds.length]!;
          const figures = { ...(await storagePerCall(build.start, store, policies, calls)), build: build.name, round };
          log(
            `  ${store}, ${figures.policies} policies, ${build.name}: ${figures.records} records, ${figures.bytesPerCall} bytes and ${figures.cpuMsPerCall?.toFixed(2) ?? '-'} CPU ms a call`,
          );
          mine.push(figures);
        }
      }
      runs.push(...mine);
      for (const build of builds) {
        const of = mine.filter((r) => r.build === build.name);
        const records = of.find((r) => r.tables.records)?.tables.records;
        const cpu = of.flatMap((r) => (r.cpuMsPerCall === undefined ? [] : [r.cpuMsPerCall]));
        rows.push([
          `${store}, ${policies ? 3 : 0}`,
          build.name,
          median(of.map((r) => r.recordsPerCall)).toFixed(2),
          String(median(of.map((r) => r.bytesPerCall))),
          records ? `${records.table} + ${records.indexes}` : '-',
          cpu.length ? median(cpu).toFixed(3) : '-',
          String(of.every((r) => r.verified)),
        ]);
      }
    }
  }
  return { rows, json: { calls, rounds, ...(skipped ? { skipped } : {}), runs } };
}

/** This build's gateway, and with `other` that build's own (its compiled gateway-processes.js starts its CLI). */
export async function storageBuilds(other?: OtherBuild): Promise<{ name: string; start: StartGateway }[]> {
  const builds = [{ name: 'this build', start: (config: string) => startLedgerGateway(config) }];
  if (other) {
    const theirs = (await import(pathToFileURL(join(other.bench, 'gateway-processes.js')).href)) as { startLedgerGateway: StartGateway };
    builds.push({ name: other.commit.slice(0, 12), start: (config: string) => theirs.startLedgerGateway(config) });
  }
  return builds;
}

/** `npm run bench`'s summary rows: this build's figures per store and policies. */
export function storageMainRows(result: StorageComparison): string[] {
  return result.json.runs.map(
    (r) =>
      `| storage per call, ${r.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${r.policies} policies, ${r.calls} calls through the gateway | ${r.recordsPerCall.toFixed(2)} records, ${r.bytesPerCall} bytes, ${r.cpuMsPerCall?.toFixed(2) ?? '-'} CPU ms a call | - | ${r.store === 'sqlite' && r.policies > 0 ? '<= 2 KB a governed call (issue 19)' : '-'} |`,
  );
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Comparison } from './ab-compare.js';
import { recordsPerCall } from './call-shapes.js';
import { runWriters, verifyLedger, writeCallsConfig } from './calls-processes.js';
import type { PerCallBuild } from './per-call-builds.js';
import { ServerMeter, type ServerCost } from './postgres-cost.js';
import { BENCH_DATABASE_URL, postgresUnavailable } from './postgres.js';
import { median, spread } from './spread.js';

/**
 * PostgreSQL ingest in calls a second (issue 19): 1 and 4 writer processes of each build, on one
 * fresh schema each time (the many-writers mode every PostgreSQL ledger uses), record the same
 * calls in the form that build's gateway writes them (call-shapes.ts: 5 records a call in format
 * 1, one in format 2) through that build's own Ledger, `outstanding` calls in flight per process.
 * Timed from `go` to the last acknowledgement, as postgres.ts times records; the builds take turns
 * round after round. Each ledger is then verified with its build's library and its `llm.call`
 * records counted.
 */

export interface PostgresCallsRun {
  build: string;
  writers: number;
  round: number;
  calls: number;
  records: number;
  callsPerSecond: number;
  recordsPerSecond: number;
  writerCpuMicrosPerCall: number;
  serverCpuMicrosPerCall?: number;
  walBytesPerCall: number;
  verified: boolean;
}

export interface PostgresCallsResult extends Comparison {
  json: { calls: number; rounds: number; policies: 0 | 3; skipped?: string; runs: PostgresCallsRun[] };
  /** Median calls/s of each build with 4 writers, and this build's over the other's. */
  fourWriters?: { thisBuild: number; other?: number; ratio?: number };
}

export async function comparePostgresCalls(
  builds: PerCallBuild[],
  calls: number,
  rounds: number,
  log: (line: string) => void,
  policies: 0 | 3 = 0,
  url = BENCH_DATABASE_URL,
): Promise<PostgresCallsResult> {
  const skipped = await postgresUnavailable(url);
  if (skipped) {
    log(`  PostgreSQL calls: skipped: ${skipped}`);
    return { rows: [['PostgreSQL calls/s', `skipped: ${skipped}`]], json: { calls, rounds, policies, skipped, runs: [] } };
  }
  log(`PostgreSQL ingest in calls a second: ${calls} calls (${policies} policies), 1 and 4 writer processes, ${rounds} round(s) in turn`);
  const runs: PostgresCallsRun[] = [];
  for (const writers of [1, 4]) {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < builds.length; k++) {
        const build = builds[(round + k) % builds.length]!;
        const run = await oneRun(build, url, { calls, writers, policies, round });
        log(
          `  ${build.name}, ${writers} writer(s): ${run.callsPerSecond.toFixed(0)} calls/s (${run.recordsPerSecond.toFixed(0)} records/s, ${recordsPerCall(build.format, policies)} a call); ` +
            `CPU a call: writers ${run.writerCpuMicrosPerCall} us${run.serverCpuMicrosPerCall === undefined ? '' : `, server ${run.serverCpuMicrosPerCall} us`}; WAL ${run.walBytesPerCall} bytes a call; verified ${run.verified}`,
        );
        runs.push(run);
      }
    }
  }
  const rows = [
    ['writers', 'build', 'calls/s, median (range)', 'records/s', 'CPU us a call: writers + server', 'WAL bytes a call', 'verified, every call counted'],
  ];
  const medianOf = (build: string, writers: number) => median(runs.filter((r) => r.build === build && r.writers === writers).map((r) => r.callsPerSecond));
  for (const writers of [1, 4]) {
    for (const build of builds) {
      const of = runs.filter((r) => r.build === build.name && r.writers === writers);
      const server = of.flatMap((r) => (r.serverCpuMicrosPerCall === undefined ? [] : [r.serverCpuMicrosPerCall]));
      rows.push([
        String(writers),
        build.name,
        spread(
          of.map((r) => r.callsPerSecond),
          0,
        ),
        median(of.map((r) => r.recordsPerSecond)).toFixed(0),
        `${median(of.map((r) => r.writerCpuMicrosPerCall))}${server.length ? ` + ${median(server)}` : ''}`,
        String(median(of.map((r) => r.walBytesPerCall))),
        String(of.every((r) => r.verified)),
      ]);
    }
    if (builds.length > 1) {
      const ratios = Array.from({ length: rounds }, (_, round) => {
        const mine = runs.find((r) => r.build === builds[0]!.name && r.writers === writers && r.round === round)!;
        const theirs = runs.find((r) => r.build === builds[1]!.name && r.writers === writers && r.round === round)!;
        return mine.callsPerSecond / theirs.callsPerSecond;
      });
      rows.push([String(writers), `${builds[0]!.name} / ${builds[1]!.name}`, `${spread(ratios, 2, 'x')} (same round)`, '-', '-', '-', '-']);
    }
  }
  const thisBuild = medianOf(builds[0]!.name, 4);
  const other = builds[1] ? medianOf(builds[1].name, 4) : undefined;
  return {
    rows,
    json: { calls, rounds, policies, runs },
    fourWriters: { thisBuild, ...(other === undefined ? {} : { other, ratio: thisBuild / other }) },
  };
}

async function oneRun(build: PerCallBuild, url: string, o: { calls: number; writers: number; policies: 0 | 3; round: number }): Promise<PostgresCallsRun> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-pg-calls-'));
  const schema = `llpc_${process.pid}_${Date.now().toString(36)}`;
  try {
    const config = writeCallsConfig(dir, { type: 'postgres', url, schema });
    const salt = schema.replace(/_/g, '');
    // Keys and schema made by the build itself, before the timed writers start.
    await runWriters(build, config, { policies: o.policies, salt, calls: 0, processes: 1 });
    let meter: ServerMeter | undefined;
    let cost: ServerCost | undefined;
    const records = o.calls * recordsPerCall(build.format, o.policies);
    const result = await runWriters(
      build,
      config,
      { policies: o.policies, salt, calls: o.calls, processes: o.writers },
      {
        before: async () => {
          // The server's CPU is summed over its processes: the setup's backends must have exited first.
          await new Promise((resolve) => setTimeout(resolve, 300));
          meter = await ServerMeter.start(url);
        },
        after: async () => {
          cost = await meter!.stop(o.calls);
        },
      },
    );
    const verified = await verifyLedger(build, config);
    return {
      build: build.name,
      writers: o.writers,
      round: o.round,
      calls: o.calls,
      records,
      callsPerSecond: o.calls / result.seconds,
      recordsPerSecond: records / result.seconds,
      writerCpuMicrosPerCall: Math.round(result.writerCpuMicros / o.calls),
      // The meter divides by what it is given: calls, here.
      ...(cost?.serverCpuMicrosPerRecord === undefined ? {} : { serverCpuMicrosPerCall: cost.serverCpuMicrosPerRecord }),
      walBytesPerCall: cost?.walBytesPerRecord ?? 0,
      verified: verified.ok && verified.size === records && verified.verifiedSize === records && verified.calls === o.calls,
    };
  } finally {
    await dropSchema(url, schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The schema and the roles the store made for it (`<schema>_owner`, `_writer`, `_reader`, `_retention`). */
async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`${schema}\\_%`]);
    for (const { rolname } of rows) {
      await client.query(`DROP OWNED BY "${rolname}"`);
      await client.query(`DROP ROLE "${rolname}"`);
    }
  } finally {
    await client.end();
  }
}

import type { OtherBuild } from './ab-build.js';
import { rawInsertRate, type LatencyResult } from './ingest.js';
import { ingestInOwnProcess, latencyInOwnProcess } from './latency-process.js';
import { spread } from './spread.js';

/** A side-by-side table (header row first) and the raw figures behind it. */
export interface Comparison {
  rows: string[][];
  json: object;
}

type Log = (line: string) => void;

/** Ingest rate of this build and `other`, each in fresh processes taking turns, with raw node:sqlite in each round. */
export async function compareIngest(other: OtherBuild, rounds: number, count: number, log: Log): Promise<Comparison> {
  log(`ingest of ${count} records, ${rounds} rounds in turn`);
  const runs: Record<'this' | 'other' | 'raw', number[]> = { this: [], other: [], raw: [] };
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 ? (['other', 'this'] as const) : (['this', 'other'] as const)) {
      runs[which].push(await ingestInOwnProcess(count, which === 'other' ? other.bench : undefined));
    }
    runs.raw.push(rawInsertRate(count, 2048));
    log(
      `  round ${round + 1}: this ${runs.this.at(-1)!.toFixed(0)}, ${other.commit.slice(0, 12)} ${runs.other.at(-1)!.toFixed(0)}, raw ${runs.raw.at(-1)!.toFixed(0)} records/s`,
    );
  }
  const ratio = (name: string, rates: number[]) => [
    name,
    spread(rates, 0),
    spread(
      rates.map((r, i) => (100 * r) / runs.raw[i]!),
      0,
    ),
  ];
  return {
    rows: [
      ['build', `records/s, median (range)`, '% of raw in the same round'],
      ratio('this build', runs.this),
      ratio(other.commit.slice(0, 12), runs.other),
      ratio('raw node:sqlite', runs.raw),
    ],
    json: { count, runs },
  };
}

/** record() -> commit p50 and p99 of each build, in fresh processes taking turns; raw node:sqlite after each round. */
export async function compareLatency(other: OtherBuild, rounds: number, offered: number, log: Log): Promise<Comparison> {
  log(`record() -> commit at ${offered}/s, ${rounds} rounds`);
  const runs: Record<'this' | 'other' | 'raw', LatencyResult[]> = { this: [], other: [], raw: [] };
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 ? (['other', 'this'] as const) : (['this', 'other'] as const)) {
      runs[which].push(await latencyInOwnProcess('ledger', offered, 5, which === 'other' ? other.bench : undefined));
    }
    runs.raw.push(await latencyInOwnProcess('raw', offered, 5));
    log(
      `  round ${round + 1}: p99 this ${runs.this.at(-1)!.p99Ms.toFixed(2)} ms, ${other.commit.slice(0, 12)} ${runs.other.at(-1)!.p99Ms.toFixed(2)} ms, raw ${runs.raw.at(-1)!.p99Ms.toFixed(2)} ms`,
    );
  }
  const row = (name: string, results: LatencyResult[]) => [
    name,
    spread(
      results.map((r) => r.p50Ms),
      2,
    ),
    spread(
      results.map((r) => r.p99Ms),
      2,
    ),
  ];
  return {
    rows: [
      ['build', `p50 ms at ${offered}/s, median (range)`, 'p99 ms, median (range)'],
      row('this build', runs.this),
      row(other.commit.slice(0, 12), runs.other),
      row('raw node:sqlite', runs.raw),
    ],
    json: { offered, runs },
  };
}

/** A Markdown table of a comparison's rows. */
export function markdownTable(rows: string[][]): string {
  return rows.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map(() => ' --- |').join('')}` : ''}`).join('\n');
}

import type { StatementSync } from 'node:sqlite';
import { BLOCK_LABELS, openBlock, type BlockColumns, type BlockLabel } from './sqlite-stats-blocks.js';
import { statusCode } from '../stats-columns.js';
import type { SearchFilter, StatsColumns, StatsColumnsRequest } from '../store.js';

/** Log indexes from `first` to `last`, both included. */
export interface IndexRange {
  first: number;
  last: number;
}

/** The filters a block answers from its labels; the time range it answers from its min_ts and max_ts. */
const LABEL_FILTERS = ['status', 'model', 'provider', 'user'] as const satisfies readonly (keyof SearchFilter & BlockLabel)[];

interface BlockRow {
  first_idx: number;
  last_idx: number;
  calls: number;
  format: number;
  min_ts: string | null;
  max_ts: string | null;
  labels: string;
}

/**
 * The stats columns of the calls that blocks hold, for a filter that call_stats can take (without
 * its kind). What blocks cannot answer is appended to `rest` as index ranges, to be read from
 * call_stats: calls in no block (the newest, fewer than a block; what is left of a block retention
 * cut into) and blocks only partly inside the filter's time range. A block's columns are read only
 * when its time range and labels say some of its calls match.
 */
export function* blockStatsColumns(
  prepare: (sql: string) => StatementSync,
  filter: SearchFilter,
  request: StatsColumnsRequest,
  rest: IndexRange[],
): Generator<StatsColumns> {
  const blocks = prepare(
    'SELECT first_idx, last_idx, calls, format, min_ts, max_ts, labels FROM call_stats_blocks ORDER BY first_idx',
  ).all() as unknown as BlockRow[];
  const columnsOf = prepare('SELECT columns FROM call_stats_blocks WHERE first_idx = ? AND last_idx = ?');
  let next = 0;
  for (const row of blocks) {
    if (row.first_idx > next) rest.push({ first: next, last: row.first_idx - 1 });
    // A block overlapping the one before (never written so) is not read: its calls would count twice.
    const overlaps = row.first_idx < next;
    const from = Math.max(row.first_idx, next);
    next = Math.max(next, row.last_idx + 1);
    const inTime = overlaps ? 'some' : timeOverlap(row, filter);
    if (inTime === 'none' || from > row.last_idx) continue;
    const labels = inTime === 'all' ? parseLabels(row.labels) : undefined;
    if (labels && !LABEL_FILTERS.every((field) => filter[field] === undefined || labels[BLOCK_LABELS.indexOf(field)]!.includes(filter[field]))) continue;
    // Retention may have removed the block since the list was read: then call_stats has what is left of it.
    const columns = labels && (columnsOf.get(row.first_idx, row.last_idx) as { columns: Uint8Array } | undefined)?.columns;
    const block = labels && columns && openBlock(row.calls, row.format, labels, columns);
    if (!block) {
      rest.push({ first: from, last: row.last_idx });
      continue;
    }
    const selected = selectedCalls(block, filter);
    if (selected === null) continue;
    const stats = toStatsColumns(block, selected, request);
    for (let at = 0; at < stats.length; at += request.batchSize) yield slice(stats, at, Math.min(stats.length, at + request.batchSize));
  }
  rest.push({ first: next, last: Number.MAX_SAFE_INTEGER });
}

/** A block's dictionaries, or undefined when they are not what this version writes. */
function parseLabels(json: string): (string | null)[][] | undefined {
  try {
    const labels = JSON.parse(json) as unknown;
    return Array.isArray(labels) && labels.length === BLOCK_LABELS.length && labels.every(Array.isArray) ? (labels as (string | null)[][]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a block's calls are all, some or none inside the filter's time range (ts compared as text, as SQL does). */
function timeOverlap(row: BlockRow, filter: SearchFilter): 'all' | 'some' | 'none' {
  const { since, until } = filter;
  if (since === undefined && until === undefined) return 'all';
  if (row.min_ts === null || row.max_ts === null) return 'some';
  if ((since !== undefined && row.max_ts < since) || (until !== undefined && row.min_ts >= until)) return 'none';
  if ((since === undefined || row.min_ts >= since) && (until === undefined || row.max_ts < until)) return 'all';
  return 'some';
}

/** The positions of the calls that match the filter's labels; undefined for all of them, null for none. */
function selectedCalls(block: BlockColumns, filter: SearchFilter): Uint32Array | undefined | null {
  const tests: { codes: Uint16Array; code: number }[] = [];
  for (const field of LABEL_FILTERS) {
    const value = filter[field];
    if (value === undefined) continue;
    const { codes, values } = block.labels[field];
    const code = values.indexOf(value);
    if (code < 0) return null;
    if (values.length > 1) tests.push({ codes, code });
  }
  if (tests.length === 0) return undefined;
  const selected = new Uint32Array(block.calls);
  let n = 0;
  calls: for (let i = 0; i < block.calls; i++) {
    for (const { codes, code } of tests) if (codes[i] !== code) continue calls;
    selected[n++] = i;
  }
  return n === 0 ? null : selected.subarray(0, n);
}

/** One block as StatsColumns: views on its columns when every call is selected, copies of the selected ones otherwise. */
function toStatsColumns(block: BlockColumns, selected: Uint32Array | undefined, request: StatsColumnsRequest): StatsColumns {
  const pick = (column: Float64Array) => {
    if (!selected) return column;
    const picked = new Float64Array(selected.length);
    for (let k = 0; k < selected.length; k++) picked[k] = column[selected[k]!]!;
    return picked;
  };
  const rows = selected ?? { length: block.calls };
  const at = (k: number) => (selected ? selected[k]! : k);
  const { numbers, labels } = block;
  const statusOfLabel = labels.status.values.map(statusCode);
  const status = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) status[k] = statusOfLabel[labels.status.codes[at(k)]!]!;
  const columns: StatsColumns = {
    length: rows.length,
    status,
    inputTokens: pick(numbers.inputTokens),
    outputTokens: pick(numbers.outputTokens),
    reasoningTokens: pick(numbers.reasoningTokens),
    cachedTokens: pick(numbers.cachedTokens),
    costUsd: pick(numbers.costUsd),
    latencyMs: pick(numbers.latencyMs),
  };
  if (request.withTime) columns.time = pick(numbers.time);
  if (request.groupBy) {
    const { codes, values } = labels[request.groupBy];
    const group = new Array<string | null>(rows.length);
    for (let k = 0; k < rows.length; k++) group[k] = values[codes[at(k)]!]!;
    columns.group = group;
  }
  return columns;
}

function slice(c: StatsColumns, from: number, to: number): StatsColumns {
  if (from === 0 && to === c.length) return c;
  return {
    length: to - from,
    status: c.status.subarray(from, to),
    inputTokens: c.inputTokens.subarray(from, to),
    outputTokens: c.outputTokens.subarray(from, to),
    reasoningTokens: c.reasoningTokens.subarray(from, to),
    cachedTokens: c.cachedTokens.subarray(from, to),
    costUsd: c.costUsd.subarray(from, to),
    latencyMs: c.latencyMs.subarray(from, to),
    ...(c.group ? { group: c.group.slice(from, to) } : {}),
    ...(c.time ? { time: c.time.subarray(from, to) } : {}),
  };
}

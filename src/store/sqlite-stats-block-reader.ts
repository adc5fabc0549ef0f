import type { StatementSync } from 'node:sqlite';
import { openBlock, type BlockColumns, type BlockLabel } from './sqlite-stats-blocks.js';
import { statusCode } from './stats-columns.js';
import type { SearchFilter, StatsColumns, StatsColumnsRequest } from './store.js';

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
  columns: Uint8Array;
}

/**
 * The stats columns of the calls in `span` that blocks hold, for a filter that call_stats can take
 * (without its kind). What blocks cannot answer is appended to `rest`, to be read from call_stats:
 * calls in no block (the newest, fewer than a block; the rest of a block retention cut into) and
 * blocks only partly inside the filter's time range.
 */
export function* blockStatsColumns(prepare: (sql: string) => StatementSync, filter: SearchFilter, request: StatsColumnsRequest, span: IndexRange, rest: IndexRange[]): Generator<StatsColumns> {
  const rows = prepare('SELECT first_idx, last_idx, calls, format, min_ts, max_ts, labels, columns FROM call_stats_blocks WHERE first_idx <= ? AND last_idx >= ? ORDER BY first_idx')
    .iterate(span.last, span.first) as Iterable<BlockRow>;
  let next = span.first;
  for (const row of rows) {
    if (row.first_idx > next) rest.push({ first: next, last: row.first_idx - 1 });
    next = row.last_idx + 1;
    const inTime = timeOverlap(row, filter);
    if (inTime === 'none') continue;
    const block = inTime === 'all' ? openBlock(row.calls, row.format, row.labels, row.columns) : undefined;
    if (!block) {
      rest.push({ first: Math.max(row.first_idx, span.first), last: Math.min(row.last_idx, span.last) });
      continue;
    }
    const selected = selectedCalls(block, filter);
    if (selected === null) continue;
    const columns = toStatsColumns(block, selected, request);
    for (let from = 0; from < columns.length; from += request.batchSize) yield slice(columns, from, Math.min(columns.length, from + request.batchSize));
  }
  if (next <= span.last) rest.push({ first: next, last: span.last });
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
  for (let i = 0; i < block.calls; i++) if (tests.every((t) => t.codes[i] === t.code)) selected[n++] = i;
  return n === 0 ? null : selected.subarray(0, n);
}

/** One block as StatsColumns: views on its columns when every call is selected, copies of the selected ones otherwise. */
function toStatsColumns(block: BlockColumns, selected: Uint32Array | undefined, request: StatsColumnsRequest): StatsColumns {
  const pick = (column: Float64Array) => (selected ? Float64Array.from(selected, (i) => column[i]!) : column);
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

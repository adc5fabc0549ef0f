import type { Envelope, LoggedRecord } from '../record/types.js';

export const STATS_GROUPS = ['model', 'user', 'day', 'provider'] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

export interface StatsRow {
  key: string;
  requests: number;
  errors: number;
  blocked: number;
  errorRate: number;
  blockRate: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyP50: number | null;
  latencyP95: number | null;
  latencyP99: number | null;
}

export interface StatsReport {
  totals: StatsRow;
  groups: StatsRow[];
}

/** Accumulates one group; latencies are kept so percentiles are exact, not estimated. */
class Accumulator {
  requests = 0;
  errors = 0;
  blocked = 0;
  inputTokens = 0;
  outputTokens = 0;
  reasoningTokens = 0;
  cachedTokens = 0;
  costUsd = 0;
  private latencies: number[] = [];

  add(e: Envelope): void {
    this.requests++;
    if (e.status === 'error') this.errors++;
    if (e.status === 'blocked') this.blocked++;
    this.inputTokens += e.inputTokens ?? 0;
    this.outputTokens += e.outputTokens ?? 0;
    this.reasoningTokens += e.reasoningTokens ?? 0;
    this.cachedTokens += e.cachedTokens ?? 0;
    this.costUsd += e.costUsd ?? 0;
    if (e.latencyMs !== undefined) this.latencies.push(e.latencyMs);
  }

  row(key: string): StatsRow {
    const sorted = Float64Array.from(this.latencies).sort();
    const { requests, errors, blocked, inputTokens, outputTokens, reasoningTokens, cachedTokens } = this;
    return {
      key,
      requests,
      errors,
      blocked,
      errorRate: requests ? errors / requests : 0,
      blockRate: requests ? blocked / requests : 0,
      inputTokens,
      outputTokens,
      reasoningTokens,
      cachedTokens,
      costUsd: Math.round(this.costUsd * 1e9) / 1e9,
      latencyP50: percentile(sorted, 0.5),
      latencyP95: percentile(sorted, 0.95),
      latencyP99: percentile(sorted, 0.99),
    };
  }
}

/** Nearest-rank percentile: always a latency that was really observed. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? null;
}

function groupKey(e: Envelope, by: StatsGroup): string {
  if (by === 'day') return e.ts.slice(0, 10);
  return e[by] ?? '(none)';
}

/** Totals and per-group figures over the matching records, in one pass. */
export async function computeStats(records: AsyncIterable<LoggedRecord[]>, by?: StatsGroup): Promise<StatsReport> {
  const totals = new Accumulator();
  const groups = new Map<string, Accumulator>();
  for await (const batch of records) {
    for (const { envelope } of batch) {
      totals.add(envelope);
      if (!by) continue;
      const key = groupKey(envelope, by);
      let acc = groups.get(key);
      if (!acc) groups.set(key, (acc = new Accumulator()));
      acc.add(envelope);
    }
  }
  return {
    totals: totals.row('total'),
    groups: [...groups].map(([key, acc]) => acc.row(key)).sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key)),
  };
}

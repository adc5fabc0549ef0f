import quickselect from 'quickselect';
import { statusCode } from '../store/stats-columns.js';
import { STATS_GROUP_FIELDS, type StatsColumns } from '../store/store.js';

export const STATS_GROUPS = STATS_GROUP_FIELDS;
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

const ERROR = statusCode('error');
const BLOCKED = statusCode('blocked');

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
  private latencies = new Float64Array(64);
  private latencyCount = 0;

  add(c: StatsColumns, i: number): void {
    this.requests++;
    const status = c.status[i];
    if (status === ERROR) this.errors++;
    else if (status === BLOCKED) this.blocked++;
    // `x || 0` turns the NaN of an absent number into 0 for sums.
    this.inputTokens += c.inputTokens[i]! || 0;
    this.outputTokens += c.outputTokens[i]! || 0;
    this.reasoningTokens += c.reasoningTokens[i]! || 0;
    this.cachedTokens += c.cachedTokens[i]! || 0;
    this.costUsd += c.costUsd[i]! || 0;
    const latency = c.latencyMs[i]!;
    if (!Number.isNaN(latency)) this.addLatency(latency);
  }

  private addLatency(latency: number): void {
    if (this.latencyCount === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.latencyCount++] = latency;
  }

  row(key: string): StatsRow {
    const [latencyP50, latencyP95, latencyP99] = percentiles(this.latencies.subarray(0, this.latencyCount), [0.5, 0.95, 0.99]);
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
      latencyP50: latencyP50!,
      latencyP95: latencyP95!,
      latencyP99: latencyP99!,
    };
  }
}

/**
 * Nearest-rank percentiles (`ps` ascending): always latencies that were really observed. Found by
 * selection, highest first, each within the values below the one before, instead of sorting them
 * all: a million latencies take a third of the time a sort does. Reorders `values`.
 */
function percentiles(values: Float64Array, ps: number[]): (number | null)[] {
  if (values.length === 0) return ps.map(() => null);
  const ranks = ps.map((p) => Math.max(0, Math.ceil(p * values.length) - 1));
  // Float64Array is indexed like the number[] quickselect's types ask for.
  const array = values as unknown as number[];
  let right = values.length - 1;
  for (const rank of ranks.toReversed()) {
    quickselect(array, rank, 0, right);
    right = rank;
  }
  return ranks.map((rank) => values[rank]!);
}

/** The key of a row without the grouping field. */
export const NO_GROUP = '(none)';

/**
 * Totals and per-group figures over the matching records, in one pass over column batches
 * (`Store.statsColumns`, asked for the `group` column when grouping).
 */
export async function computeStats(batches: AsyncIterable<StatsColumns>, grouped: boolean): Promise<StatsReport> {
  const totals = new Accumulator();
  const groups = new Map<string, Accumulator>();
  for await (const batch of batches) {
    for (let i = 0; i < batch.length; i++) {
      totals.add(batch, i);
      if (!grouped) continue;
      const key = batch.group?.[i] ?? NO_GROUP;
      let acc = groups.get(key);
      if (!acc) groups.set(key, (acc = new Accumulator()));
      acc.add(batch, i);
    }
  }
  return {
    totals: totals.row('total'),
    groups: [...groups].map(([key, acc]) => acc.row(key)).sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key)),
  };
}

import { statusCode } from '../store/stats-columns.js';
import type { SearchFilter, StatsColumns, StatsColumnsRequest } from '../store/store.js';
import { binomialUpperTail, normalUpperTail } from './tail-probability.js';

export const ANOMALY_GROUPS = ['user', 'model', 'provider'] as const;
export type AnomalyGroup = (typeof ANOMALY_GROUPS)[number];

export interface AnomalyOptions extends Omit<SearchFilter, 'since' | 'until' | 'kind'> {
  /** Length of the window examined, in ms (default 24 h). */
  windowMs?: number;
  /** Length of the baseline just before the window, in ms (default 7 days); at least the window. */
  baselineMs?: number;
  /** End of the window (ISO 8601 UTC; default now). */
  until?: string;
  /** Whose token usage is compared with its own past (default user). */
  by?: AnomalyGroup;
  /** How many standard deviations count as anomalous (default 3). */
  sigma?: number;
}

export interface TokenAnomaly {
  key: string;
  windowTokens: number;
  windowCalls: number;
  /** What the baseline predicts for a window: its mean per bucket times the buckets in a window. */
  expectedTokens: number;
  /** Standard deviation of a window's total implied by the baseline. */
  standardDeviation: number;
  /** Standard deviations above the expectation. */
  z: number;
}

export interface NewKey {
  key: string;
  windowTokens: number;
  windowCalls: number;
}

export interface ErrorSpike {
  model: string;
  windowCalls: number;
  windowErrors: number;
  windowErrorRate: number;
  baselineCalls: number;
  baselineErrors: number;
  /** (errors + 1) / (calls + 2): never 0, so a clean baseline still allows for a rare error. */
  baselineErrorRate: number;
  /** P(at least this many errors) if the window's rate were the baseline's (exact binomial tail). */
  pValue: number;
  z: number;
}

export interface AnomalyReport {
  window: { since: string; until: string };
  baseline: { since: string; until: string };
  by: AnomalyGroup;
  sigma: number;
  /** Buckets of this length (window / 24) are what the baseline's spread is measured over. */
  bucketMs: number;
  tokenAnomalies: TokenAnomaly[];
  /** Keys with usage in the window and none in the baseline: nothing to compare them with. */
  newKeys: NewKey[];
  errorSpikes: ErrorSpike[];
}

export class AnomalyOptionsError extends Error {
  override readonly name = 'AnomalyOptionsError';
}

export const ANOMALY_DEFAULTS = { windowMs: 24 * 3_600_000, baselineMs: 7 * 24 * 3_600_000, by: 'user', sigma: 3 } as const;
/** A window is cut into this many buckets; the baseline into as many buckets of the same length as fit. */
export const BUCKETS_PER_WINDOW = 24;

type ColumnSource = (filter: SearchFilter, request: StatsColumnsRequest) => AsyncIterable<StatsColumns>;

interface Tally {
  /** Token total per baseline bucket; buckets without usage are absent and count as 0. */
  buckets: Map<number, number>;
  baselineCalls: number;
  baselineErrors: number;
  windowTokens: number;
  windowCalls: number;
  windowErrors: number;
}

const ERROR = statusCode('error');
const NONE = '(none)';

/**
 * Token usage beyond `sigma` standard deviations, per user (or model, provider), and error-rate
 * spikes per model, in a window compared with the baseline period just before it. See the
 * `anomalies` command's help for the method in plain words.
 */
export async function detectAnomalies(source: ColumnSource, options: AnomalyOptions, now = new Date()): Promise<AnomalyReport> {
  const { windowMs = ANOMALY_DEFAULTS.windowMs, baselineMs = ANOMALY_DEFAULTS.baselineMs, by = ANOMALY_DEFAULTS.by, sigma = ANOMALY_DEFAULTS.sigma } = options;
  const { windowMs: _w, baselineMs: _b, by: _by, sigma: _s, until, ...filter } = options;
  if (!(windowMs >= 60_000)) throw new AnomalyOptionsError(`the window must be at least one minute, got ${windowMs} ms`);
  if (!(baselineMs >= windowMs)) throw new AnomalyOptionsError('the baseline must be at least as long as the window, so its spread can be measured');
  if (!(sigma > 0)) throw new AnomalyOptionsError(`sigma must be a positive number, got ${sigma}`);
  const end = until === undefined ? now.getTime() : Date.parse(until);
  if (Number.isNaN(end)) throw new AnomalyOptionsError(`until must be an ISO 8601 time, got ${until}`);
  const windowStart = end - windowMs;
  const baselineStart = windowStart - baselineMs;
  const bucketMs = windowMs / BUCKETS_PER_WINDOW;
  const baselineBuckets = Math.floor(baselineMs / bucketMs);
  const range = { ...filter, kind: 'llm.call' as const, since: iso(baselineStart), until: iso(end) };

  const tally = (groupBy: AnomalyGroup) => tallyColumns(source(range, { groupBy, withTime: true, batchSize: 4096 }), windowStart, bucketMs, baselineBuckets);
  const byKey = await tally(by);
  const byModel = by === 'model' ? byKey : await tally('model');

  const tokenAnomalies: TokenAnomaly[] = [];
  const newKeys: NewKey[] = [];
  for (const [key, t] of byKey) {
    if (t.windowCalls === 0) continue;
    if (t.baselineCalls === 0) {
      newKeys.push({ key, windowTokens: t.windowTokens, windowCalls: t.windowCalls });
      continue;
    }
    const { mean, sd } = bucketSpread(t.buckets, baselineBuckets);
    // Window total of 24 buckets: mean and spread scale as for a sum of independent buckets.
    const expectedTokens = mean * BUCKETS_PER_WINDOW;
    // A baseline of identical buckets has no spread; one token of it keeps z finite and large.
    const standardDeviation = Math.max(sd, 1) * Math.sqrt(BUCKETS_PER_WINDOW);
    const z = (t.windowTokens - expectedTokens) / standardDeviation;
    if (z > sigma)
      tokenAnomalies.push({
        key,
        windowTokens: t.windowTokens,
        windowCalls: t.windowCalls,
        expectedTokens: round(expectedTokens),
        standardDeviation: round(standardDeviation),
        z: round(z),
      });
  }

  const alpha = normalUpperTail(sigma);
  const errorSpikes: ErrorSpike[] = [];
  for (const [model, t] of byModel) {
    if (t.windowErrors === 0) continue;
    const p0 = (t.baselineErrors + 1) / (t.baselineCalls + 2);
    const pValue = binomialUpperTail(t.windowErrors, t.windowCalls, p0);
    if (pValue >= alpha) continue;
    errorSpikes.push({
      model,
      windowCalls: t.windowCalls,
      windowErrors: t.windowErrors,
      windowErrorRate: round(t.windowErrors / t.windowCalls),
      baselineCalls: t.baselineCalls,
      baselineErrors: t.baselineErrors,
      baselineErrorRate: round(p0),
      pValue,
      z: round((t.windowErrors - t.windowCalls * p0) / Math.sqrt(t.windowCalls * p0 * (1 - p0))),
    });
  }

  return {
    window: { since: iso(windowStart), until: iso(end) },
    baseline: { since: iso(baselineStart), until: iso(windowStart) },
    by,
    sigma,
    bucketMs,
    tokenAnomalies: tokenAnomalies.sort((a, b) => b.z - a.z || a.key.localeCompare(b.key)),
    newKeys: newKeys.sort((a, b) => b.windowTokens - a.windowTokens || a.key.localeCompare(b.key)),
    errorSpikes: errorSpikes.sort((a, b) => a.pValue - b.pValue || a.model.localeCompare(b.model)),
  };
}

async function tallyColumns(batches: AsyncIterable<StatsColumns>, windowStart: number, bucketMs: number, baselineBuckets: number): Promise<Map<string, Tally>> {
  const tallies = new Map<string, Tally>();
  for await (const c of batches) {
    for (let i = 0; i < c.length; i++) {
      const key = c.group?.[i] ?? NONE;
      let t = tallies.get(key);
      if (!t) tallies.set(key, (t = { buckets: new Map(), baselineCalls: 0, baselineErrors: 0, windowTokens: 0, windowCalls: 0, windowErrors: 0 }));
      const tokens = (c.inputTokens[i]! || 0) + (c.outputTokens[i]! || 0);
      const error = c.status[i] === ERROR ? 1 : 0;
      const time = c.time![i]!;
      if (time >= windowStart) {
        t.windowTokens += tokens;
        t.windowCalls++;
        t.windowErrors += error;
        continue;
      }
      // Bucket 0 ends where the window starts. When the baseline is not a whole number of
      // buckets, its oldest, partial bucket is left out rather than under-counted.
      const bucket = Math.ceil((windowStart - time) / bucketMs) - 1;
      if (bucket >= baselineBuckets) continue;
      t.baselineCalls++;
      t.baselineErrors += error;
      t.buckets.set(bucket, (t.buckets.get(bucket) ?? 0) + tokens);
    }
  }
  return tallies;
}

/** Mean and sample standard deviation over all `count` buckets, the absent ones being 0. */
function bucketSpread(buckets: Map<number, number>, count: number): { mean: number; sd: number } {
  let sum = 0;
  for (const x of buckets.values()) sum += x;
  const mean = sum / count;
  let squares = (count - buckets.size) * mean * mean;
  for (const x of buckets.values()) squares += (x - mean) * (x - mean);
  return { mean, sd: count > 1 ? Math.sqrt(squares / (count - 1)) : 0 };
}

const iso = (ms: number) => new Date(ms).toISOString();
const round = (x: number) => Math.round(x * 1000) / 1000;

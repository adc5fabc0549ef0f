import { RECORD_STATUSES, type Envelope, type RecordStatus } from '../record/types.js';
import type { StatsColumns, StatsColumnsRequest, StatsGroupField } from './store.js';

/** The `status` code of StatsColumns: 0 for none, else 1 + the position in RECORD_STATUSES. */
export function statusCode(status: RecordStatus | string | null | undefined): number {
  return status == null ? 0 : RECORD_STATUSES.indexOf(status as RecordStatus) + 1;
}

export function statusOfCode(code: number): RecordStatus | undefined {
  return RECORD_STATUSES[code - 1];
}

export function groupValue(e: Envelope, by: StatsGroupField): string | null {
  return by === 'day' ? e.ts.slice(0, 10) : (e[by] ?? null);
}

type Num = number | null | undefined;

/**
 * A row as the SQL stores select it: the status code, the six numbers, then the group when asked
 * for, then the time when asked for.
 */
export type SelectedStatsRow = [number, Num, Num, Num, Num, Num, Num, ...(string | number | null)[]];

/** Fills fixed-size column batches row by row; `add` returns a batch each time one is full. */
export class StatsColumnsBuilder {
  private batch: StatsColumns;
  private n = 0;

  constructor(private readonly request: StatsColumnsRequest) {
    this.batch = this.empty();
  }

  /**
   * Adds one row. Positional arguments rather than an object: this runs once per matching row,
   * up to millions of times per query. Absent numbers are null or undefined.
   */
  push(
    status: number,
    inputTokens: Num,
    outputTokens: Num,
    reasoningTokens: Num,
    cachedTokens: Num,
    costUsd: Num,
    latencyMs: Num,
    group?: string | null,
    time?: Num,
  ): StatsColumns | undefined {
    const b = this.batch;
    const i = this.n++;
    b.status[i] = status;
    b.inputTokens[i] = inputTokens ?? Number.NaN;
    b.outputTokens[i] = outputTokens ?? Number.NaN;
    b.reasoningTokens[i] = reasoningTokens ?? Number.NaN;
    b.cachedTokens[i] = cachedTokens ?? Number.NaN;
    b.costUsd[i] = costUsd ?? Number.NaN;
    b.latencyMs[i] = latencyMs ?? Number.NaN;
    if (b.group) b.group[i] = group ?? null;
    if (b.time) b.time[i] = time ?? Number.NaN;
    return this.n === this.request.batchSize ? this.take() : undefined;
  }

  /** Adds a row as the SQL stores select it (see SelectedStatsRow). */
  pushSelected(r: SelectedStatsRow): StatsColumns | undefined {
    const { groupBy, withTime } = this.request;
    return this.push(
      r[0],
      r[1],
      r[2],
      r[3],
      r[4],
      r[5],
      r[6],
      groupBy ? (r[7] as string | null) : undefined,
      withTime ? (r[groupBy ? 8 : 7] as number | null) : undefined,
    );
  }

  addEnvelope(e: Envelope): StatsColumns | undefined {
    const { groupBy, withTime } = this.request;
    return this.push(
      statusCode(e.status),
      e.inputTokens,
      e.outputTokens,
      e.reasoningTokens,
      e.cachedTokens,
      e.costUsd,
      e.latencyMs,
      groupBy ? groupValue(e, groupBy) : undefined,
      withTime ? Date.parse(e.ts) : undefined,
    );
  }

  /** The rows added since the last batch, if any. */
  take(): StatsColumns | undefined {
    if (this.n === 0) return undefined;
    const n = this.n;
    const b = this.batch;
    const full: StatsColumns = {
      length: n,
      status: b.status.subarray(0, n),
      inputTokens: b.inputTokens.subarray(0, n),
      outputTokens: b.outputTokens.subarray(0, n),
      reasoningTokens: b.reasoningTokens.subarray(0, n),
      cachedTokens: b.cachedTokens.subarray(0, n),
      costUsd: b.costUsd.subarray(0, n),
      latencyMs: b.latencyMs.subarray(0, n),
      ...(b.group ? { group: b.group.slice(0, n) } : {}),
      ...(b.time ? { time: b.time.subarray(0, n) } : {}),
    };
    this.batch = this.empty();
    this.n = 0;
    return full;
  }

  private empty(): StatsColumns {
    const size = this.request.batchSize;
    const f64 = () => new Float64Array(size);
    return {
      length: 0,
      status: new Uint8Array(size),
      inputTokens: f64(),
      outputTokens: f64(),
      reasoningTokens: f64(),
      cachedTokens: f64(),
      costUsd: f64(),
      latencyMs: f64(),
      ...(this.request.groupBy ? { group: new Array<string | null>(size) } : {}),
      ...(this.request.withTime ? { time: f64() } : {}),
    };
  }
}

import { printable } from '../ledger/printable.js';
import type { StatsRow } from '../ledger/stats.js';
import type { LoggedRecord } from '../record/types.js';

/**
 * One line per record for the text summaries. Stored values are escaped, so a crafted model name
 * or user id cannot forge lines that an assistant would read as the ledger's own words.
 */
export function recordLine({ index, envelope: e }: LoggedRecord): string {
  const parts = [`#${index}`, e.ts, e.kind === 'event' ? `event ${e.eventType ?? '?'}` : e.kind];
  if (e.component) parts.push(`component=${e.component}`);
  if (e.provider || e.model) parts.push(`${e.provider ?? '?'}/${e.model ?? '?'}`);
  if (e.user) parts.push(`user=${e.user}`);
  if (e.status) parts.push(e.status);
  if (e.inputTokens !== undefined || e.outputTokens !== undefined) parts.push(`tokens ${e.inputTokens ?? 0}/${e.outputTokens ?? 0}`);
  if (e.latencyMs !== undefined) parts.push(`${e.latencyMs}ms`);
  if (e.costUsd !== undefined) parts.push(`$${e.costUsd}`);
  parts.push(`id=${e.id}`);
  return printable(parts.join(' '));
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const ms = (value: number | null) => (value === null ? '-' : `${value}`);

export function statsLine(row: StatsRow): string {
  return printable(
    `${row.key}: ${row.requests} requests, ${row.errors} errors (${percent(row.errorRate)}), ${row.blocked} blocked (${percent(row.blockRate)}), ` +
      `tokens in ${row.inputTokens} out ${row.outputTokens}, cost $${row.costUsd}, latency p50/p95/p99 ${ms(row.latencyP50)}/${ms(row.latencyP95)}/${ms(row.latencyP99)} ms`,
  );
}

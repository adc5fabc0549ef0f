import type { CallEvent, Envelope, LoggedRecord } from '../record/types.js';
import { renderTable } from './table.js';

const dash = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : v);

/** `llm.call`, or `event request_received` for gateway events. */
export function what(e: Envelope): string {
  return e.kind === 'event' ? `event ${e.eventType ?? ''}`.trim() : e.eventType ? `${e.kind} ${e.eventType}` : e.kind;
}

export function tokens(e: Envelope): string {
  return e.inputTokens === undefined && e.outputTokens === undefined ? '-' : `${e.inputTokens ?? 0}/${e.outputTokens ?? 0}`;
}

export const ms = (v: number | undefined) => (v === undefined ? '-' : `${v} ms`);
export const usd = (v: number | undefined) => (v === undefined ? '-' : `$${v.toFixed(6)}`);

/** The search result table: newest first, as the ledger returns it. */
export function searchTable(records: readonly LoggedRecord[]): string {
  return renderTable(
    [
      { header: 'INDEX', align: 'right' },
      { header: 'TIME (UTC)' },
      { header: 'KIND' },
      { header: 'USER' },
      { header: 'MODEL' },
      { header: 'STATUS' },
      { header: 'TOKENS IN/OUT', align: 'right' },
      { header: 'LATENCY', align: 'right' },
      { header: 'COST', align: 'right' },
      { header: 'ID' },
    ],
    records.map(({ index, envelope: e }) => [
      index,
      e.ts,
      what(e),
      dash(e.user),
      dash(e.model),
      dash(e.status),
      tokens(e),
      ms(e.latencyMs),
      usd(e.costUsd),
      e.id,
    ]),
  );
}

/**
 * One envelope, a field per line. Nested objects become dotted names; metadata stays one line of
 * JSON. Values are escaped by renderTable.
 */
export function envelopeTable(record: LoggedRecord): string {
  const rows: [string, unknown][] = [['index', record.index]];
  for (const [key, value] of Object.entries(record.envelope)) {
    if (value === undefined) continue;
    if (key === 'events' && Array.isArray(value)) {
      // A call's own events, one line each, in order (`trace` shows them as a timeline).
      (value as CallEvent[]).forEach(({ type, at, ...facts }, i) =>
        rows.push([`events.${i}`, `+${at} ms ${type}${Object.keys(facts).length > 0 ? ` ${JSON.stringify(facts)}` : ''}`]),
      );
    } else if (key !== 'metadata' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value)) if (v !== undefined) rows.push([`${key}.${inner}`, display(v)]);
    } else {
      rows.push([key, display(value)]);
    }
  }
  return renderTable([{ header: 'FIELD' }, { header: 'VALUE' }], rows);
}

const display = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** A trace as a timeline: each record's offset from the first one, in log order. */
export function timelineTable(records: readonly LoggedRecord[]): string {
  const start = Date.parse(records[0]?.envelope.ts ?? '');
  return renderTable(
    [
      { header: 'OFFSET', align: 'right' },
      { header: 'INDEX', align: 'right' },
      { header: 'WHAT' },
      { header: 'COMPONENT' },
      { header: 'STATUS' },
      { header: 'MODEL' },
      { header: 'LATENCY', align: 'right' },
      { header: 'DETAIL' },
    ],
    records.map(({ index, envelope: e }) => [
      `+${Date.parse(e.ts) - start} ms`,
      index,
      what(e),
      dash(e.component),
      dash(e.status),
      dash(e.model),
      ms(e.latencyMs),
      detail(e),
    ]),
  );
}

/**
 * What a gateway event decided, in a few words: the policy and its outcome, the reviewer's
 * decision, the provider and status of a routing step, what routing did next.
 */
function detail(e: Envelope): string {
  const m = e.metadata ?? {};
  const parts: string[] = [];
  if (typeof m.policy === 'string' && e.eventType !== 'review_decided') parts.push(m.policy);
  if (typeof m.outcome === 'string') parts.push(m.outcome);
  if (typeof m.decision === 'string') parts.push(`${m.decision} by ${String(m.reviewer)}`);
  if (e.eventType?.startsWith('routing_') && e.provider !== undefined) parts.push(e.provider);
  if (e.kind === 'event' && e.httpStatus !== undefined) parts.push(`HTTP ${e.httpStatus}`);
  if (typeof m.next === 'string') parts.push(`then ${m.next}`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

import { ROUTINE_EVENT_TYPES } from '../../record/call-events.js';
import { RECORD_STATUSES } from '../../record/types.js';
import { FILTER_EXPRESSIONS, KEY_PREFIX_EXPRESSION, NUMERIC_EXPRESSIONS } from './postgres-schema.js';
import { statusCode } from '../stats-columns.js';
import { StoreError, type SearchFilter, type StatsColumnsRequest, type StatsGroupField } from '../store.js';

/** SQL conditions with their numbered parameters. */
export class Where {
  readonly terms: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(term: string): this {
    this.terms.push(term);
    return this;
  }

  toString(): string {
    return this.terms.length ? `WHERE ${this.terms.join(' AND ')}` : '';
  }
}

/**
 * The SQL of a search filter on `${s}.records`. Every term is one an index answers: the JSONB
 * expressions each have an (expression, idx) index, a key prefix is a byte-wise range on its own
 * index, a time range prunes the day partitions, and an event type is answered as eventTypeTerm
 * says. PostgreSQL keeps statistics, so it picks the narrowest itself.
 */
export function whereOf(s: string, filter: SearchFilter, where = new Where()): Where {
  for (const [field, expression] of Object.entries(FILTER_EXPRESSIONS)) {
    if (field === 'eventType') continue;
    const value = filter[field as keyof typeof FILTER_EXPRESSIONS];
    if (value !== undefined) where.add(`${expression} = ${where.param(value)}`);
  }
  if (filter.eventType !== undefined) where.add(eventTypeTerm(s, filter.eventType, where));
  if (filter.since !== undefined) where.add(`ts >= ${where.param(filter.since)}::timestamptz`);
  if (filter.until !== undefined) where.add(`ts < ${where.param(filter.until)}::timestamptz`);
  if (filter.keyPrefix !== undefined) {
    where.add(`${KEY_PREFIX_EXPRESSION} >= ${where.param(filter.keyPrefix)} AND ${KEY_PREFIX_EXPRESSION} < ${where.param(`${filter.keyPrefix}\u{10ffff}`)}`);
  }
  return where;
}

/**
 * Records that are (format 1) or carry (format 2) an event of `type`. A format 1 event record is
 * found through the eventType expression index, as before. A notable type's carriers are in
 * call_events: both are index seeks, and their union is the set of matching indexes. A routine
 * type is held by no index (nearly every call carries one, see ROUTINE_EVENT_TYPES): the newest
 * records are read and their events looked at, and as matches are dense, a page fills quickly.
 */
function eventTypeTerm(s: string, type: string, where: Where): string {
  if (typeof type !== 'string') throw new StoreError(`an event type filter is a string, not ${JSON.stringify(type)}`);
  const typed = where.param(type);
  if (!ROUTINE_EVENT_TYPES.has(type)) {
    return `idx IN (SELECT idx FROM ${s}.records WHERE ${FILTER_EXPRESSIONS.eventType} = ${typed} UNION ALL SELECT idx FROM ${s}.call_events WHERE event_type = ${typed})`;
  }
  return `(${FILTER_EXPRESSIONS.eventType} = ${typed} OR envelope -> 'events' @> ${where.param(JSON.stringify([{ type }]))}::jsonb)`;
}

const STATUS_CODE = `CASE envelope ->> 'status' ${RECORD_STATUSES.map((status) => `WHEN '${status}' THEN ${statusCode(status)}`).join(' ')} ELSE 0 END`;

const GROUP_EXPRESSIONS: Record<StatsGroupField, string> = {
  model: FILTER_EXPRESSIONS.model,
  user: FILTER_EXPRESSIONS.user,
  provider: FILTER_EXPRESSIONS.provider,
  day: `substr(envelope ->> 'ts', 1, 10)`,
};

/** The columns statsColumns reads, in the order StatsColumnsBuilder.push takes them. */
export function statsSelect(request: StatsColumnsRequest): string {
  const columns = [STATUS_CODE, ...NUMERIC_EXPRESSIONS];
  if (request.groupBy) columns.push(GROUP_EXPRESSIONS[request.groupBy]);
  if (request.withTime) columns.push('extract(epoch FROM ts)::float8 * 1000');
  return columns.join(', ');
}

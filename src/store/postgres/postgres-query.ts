import { RECORD_STATUSES } from '../../record/types.js';
import { FILTER_EXPRESSIONS, KEY_PREFIX_EXPRESSION, NUMERIC_EXPRESSIONS } from './postgres-schema.js';
import { statusCode } from '../stats-columns.js';
import type { SearchFilter, StatsColumnsRequest, StatsGroupField } from '../store.js';

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
 * The SQL of a search filter. Every term is one an index answers: the JSONB expressions each have
 * an (expression, idx) index, a key prefix is a byte-wise range on its own index, and a time range
 * prunes the day partitions. PostgreSQL keeps statistics, so it picks the narrowest itself.
 */
export function whereOf(filter: SearchFilter, where = new Where()): Where {
  for (const [field, expression] of Object.entries(FILTER_EXPRESSIONS)) {
    const value = filter[field as keyof typeof FILTER_EXPRESSIONS];
    if (value !== undefined) where.add(`${expression} = ${where.param(value)}`);
  }
  if (filter.since !== undefined) where.add(`ts >= ${where.param(filter.since)}::timestamptz`);
  if (filter.until !== undefined) where.add(`ts < ${where.param(filter.until)}::timestamptz`);
  if (filter.keyPrefix !== undefined) {
    where.add(`${KEY_PREFIX_EXPRESSION} >= ${where.param(filter.keyPrefix)} AND ${KEY_PREFIX_EXPRESSION} < ${where.param(`${filter.keyPrefix}\u{10ffff}`)}`);
  }
  return where;
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

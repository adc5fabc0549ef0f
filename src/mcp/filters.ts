import { parseDateArgument } from '../ledger/date-arguments.js';
import type { SearchFilter } from '../store/store.js';
import { ToolArgumentError } from './results.js';

/**
 * Turns tool arguments into the core's SearchFilter: dates (ISO or relative) become the stored
 * timestamp form, everything else passes through. Throws a DateArgumentError for a bad date
 * and a ToolArgumentError for a window that is empty by construction.
 */
export function searchFilterOf(args: SearchFilter, now: Date = new Date()): SearchFilter {
  const filter: SearchFilter = { ...args };
  if (args.since !== undefined) filter.since = parseDateArgument(args.since, 'since', now);
  if (args.until !== undefined) filter.until = parseDateArgument(args.until, 'until', now);
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new ToolArgumentError(`since (${filter.since}) must be before until (${filter.until}); nothing can match`);
  }
  return filter;
}

import { InvalidArgumentError, Option, type Command } from 'commander';
import { RECORD_KINDS, RECORD_STATUSES } from '../record/types.js';
import type { SearchFilter } from '../store/store.js';
import { ACCEPTED_DATE_FORMS, parseDateArgument } from '../ledger/date-arguments.js';

/** What commander hands over for the shared filter options: the search filter, with `--trace` for its trace id. */
export type FilterOptions = Omit<SearchFilter, 'traceId'> & { trace?: string };

/** Option parsers throw InvalidArgumentError so commander reports the option by name (exit 2). */
export function dateOption(flag: '--since' | '--until') {
  return (value: string): string => {
    try {
      return parseDateArgument(value, flag);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/**
 * The search filters, the same on every command that takes them. `time: false` leaves out
 * `--since`/`--until` and `kind: false` leaves out `--kind` (for commands that choose these themselves).
 */
export function addFilterOptions(command: Command, include: { time?: boolean; kind?: boolean } = {}): Command {
  command
    .option('--model <name>', 'model, exactly as recorded')
    .option('--provider <name>', 'provider (openai, anthropic, ...)')
    .option('--user <id>', 'user id')
    .option('--session <id>', 'session id')
    .option('--conversation <id>', 'conversation id')
    .option('--key-prefix <prefix>', 'API keys whose stored prefix starts with this')
    .addOption(new Option('--status <status>', 'call outcome').choices(RECORD_STATUSES));
  if (include.kind !== false) command.addOption(new Option('--kind <kind>', 'record kind').choices(RECORD_KINDS));
  command
    .option('--event-type <type>', 'records that are, or carry, an event of this type (request_blocked, routing_fallback, ...)')
    .option('--trace <trace-id>', 'records of one trace')
    .option('--request-id <id>', 'records of one request');
  if (include.time !== false) {
    command
      .option('--since <date>', `from this time on (inclusive): ${ACCEPTED_DATE_FORMS}`, dateOption('--since'))
      .option('--until <date>', 'before this time (exclusive); same forms as --since', dateOption('--until'));
  }
  return command;
}

/** The SearchFilter the options name; options that were not given stay out. */
export function searchFilter(options: FilterOptions): SearchFilter {
  const filter: SearchFilter = {
    model: options.model,
    provider: options.provider,
    user: options.user,
    session: options.session,
    conversation: options.conversation,
    keyPrefix: options.keyPrefix,
    status: options.status,
    kind: options.kind,
    eventType: options.eventType,
    traceId: options.trace,
    requestId: options.requestId,
    since: options.since,
    until: options.until,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as SearchFilter;
}

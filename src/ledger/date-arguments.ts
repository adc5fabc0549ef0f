/**
 * Date arguments shared by the CLI and the MCP server: ISO 8601 instants and relative ages
 * (`90s`, `15m`, `24h`, `7d`, `2w`, meaning "that long before now"). Results are normalised to the
 * envelope's own form (UTC, milliseconds, `Z`) because stores compare timestamps as strings.
 */

export const ACCEPTED_DATE_FORMS =
  'an ISO 8601 date or time in UTC (2026-01-31, 2026-01-31T09:30:00Z, 2026-01-31T09:30:00.000Z, or with an offset such as +02:00) or a relative age (30s, 15m, 24h, 7d, 2w)';

export class DateArgumentError extends Error {
  override readonly name = 'DateArgumentError';
}

export const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const RELATIVE = /^(\d{1,9})([smhdw])$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// A zone is required: a time without one would silently mean the server's local time.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses one date argument; `what` names it in the error (for example `--since` or `since`).
 * Throws a DateArgumentError naming the accepted forms when the value is none of them.
 */
export function parseDateArgument(value: string, what: string, now: Date = new Date()): string {
  const text = value.trim();
  const relative = RELATIVE.exec(text);
  if (relative) {
    const unit = relative[2] as keyof typeof UNIT_MS;
    return checked(new Date(now.getTime() - Number(relative[1]) * UNIT_MS[unit]), value, what);
  }
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    const [, y, mo, d] = dateOnly;
    return checked(realDate(`${y}-${mo}-${d}T00:00:00.000Z`, [y, mo, d]), value, what);
  }
  const dateTime = DATE_TIME.exec(text.replace(/z$/, 'Z'));
  if (dateTime) {
    const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = dateTime;
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw invalid(value, what);
    const ms = fraction.padEnd(3, '0').slice(0, 3);
    return checked(realDate(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${zone}`, [y, mo, d]), value, what);
  }
  throw invalid(value, what);
}

/** `Date` rolls 2026-02-30 over into March; a calendar date that does not exist is refused instead. */
function realDate(iso: string, [y, mo, d]: (string | undefined)[]): Date {
  const date = new Date(iso);
  const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const exists = calendar.getUTCFullYear() === Number(y) && calendar.getUTCMonth() === Number(mo) - 1 && calendar.getUTCDate() === Number(d);
  return exists ? date : new Date(Number.NaN);
}

function checked(date: Date, value: string, what: string): string {
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) throw invalid(value, what);
  return date.toISOString();
}

function invalid(value: string, what: string): DateArgumentError {
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return new DateArgumentError(`${what} ${shown} is not a date: use ${ACCEPTED_DATE_FORMS}`);
}

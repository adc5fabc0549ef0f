import { UNIT_MS } from '../ledger/date-arguments.js';

export const ACCEPTED_DURATION_FORMS = 'a number and a unit: 30m, 6h, 24h, 7d, 2w (s, m, h, d, w)';

const DURATION = /^(\d{1,9})([smhdw])$/;

/** A length of time such as `24h` or `7d`, in milliseconds; `what` names the argument in the error. */
export function parseDurationArgument(value: string, what: string): number {
  const match = DURATION.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
  if (ms <= 0) throw new Error(`${what} ${JSON.stringify(value.slice(0, 40))} is not a length of time: use ${ACCEPTED_DURATION_FORMS}`);
  return ms;
}

/** Milliseconds written back the way a person would type them (86400000 -> 24h). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

import { OUTCOMES, type Outcome } from './types.js';

const RANK: Record<Outcome, number> = Object.fromEntries(OUTCOMES.map((outcome, i) => [outcome, i])) as Record<Outcome, number>;

/** The stronger of two outcomes: BLOCK > ESCALATE > REDACT > ALLOW. */
export function stronger(a: Outcome, b: Outcome): Outcome {
  return RANK[a] <= RANK[b] ? a : b;
}

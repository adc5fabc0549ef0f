/** One detector's claim on [start, end) of the text; `rank` is the detector's precedence. */
export interface Claim {
  start: number;
  end: number;
  rank: number;
}

/**
 * Overlapping claims are merged and the whole union replaced once, so no detector's span is
 * ever left partly visible (a phone match over the first digits of a card cannot expose the
 * rest). The union is named after its longest claim; ties go to the earliest start, then to
 * detector precedence. Touching claims stay separate. Returns the stretches to replace, in text
 * order, each as the claim that names it.
 */
export function resolveClaims(claims: Claim[]): Claim[] {
  claims.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const out: Claim[] = [];
  let current: Claim | undefined;
  let bestLength = 0;
  for (const claim of claims) {
    const length = claim.end - claim.start;
    if (current !== undefined && claim.start < current.end) {
      if (claim.end > current.end) current.end = claim.end;
      if (length > bestLength) {
        bestLength = length;
        current.rank = claim.rank;
      }
      continue;
    }
    current = { start: claim.start, end: claim.end, rank: claim.rank };
    bestLength = length;
    out.push(current);
  }
  return out;
}

/**
 * Indexes [from, to) of records that no signed note covered: rows beyond the signed head (or,
 * in a log written before heads, beyond the newest checkpoint), which an operator may accept into
 * the log with `llm-ledger repair --accept-unsealed` (see Ledger.create's restoreTree).
 */
export interface IndexRange {
  from: number;
  to: number;
}

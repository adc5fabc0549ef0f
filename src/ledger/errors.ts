/** Thrown when the stored log no longer matches its own newest checkpoint: appending would bury the damage. */
export class LedgerIntegrityError extends Error {
  override readonly name = 'LedgerIntegrityError';
}

/** A caller's mistake (an unknown id, a bad limit, a missing reason) or an operation the ledger cannot do as configured. */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

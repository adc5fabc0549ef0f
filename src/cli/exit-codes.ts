/**
 * Exit codes, the same for every command: 0 success, 1 verification failed (an invalid proof, or
 * content that fails its integrity check), 2 bad usage, configuration or input (a missing or wrong
 * key included), 3 the ledger could not be opened or read, 4 a record, request or trace that was
 * asked for by id does not exist, or has no stored content to reveal.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3, notFound: 4 } as const;

/** Bad arguments the option parser could not catch (say, two ways of naming one record). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something asked for by id is not in the ledger (or, for a reveal, no content of it is). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Stored data failed an integrity check (an altered ciphertext, say): the same exit code as a failed verify. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

const USAGE_ERRORS = new Set(['UsageError', 'ConfigError', 'RecordValidationError', 'LedgerError', 'DateArgumentError']);

/** The exit code for an error that ended a command. */
export function exitCodeFor(err: Error): number {
  if (err.name === 'NotFoundError') return EXIT.notFound;
  if (err.name === 'IntegrityError') return EXIT.failed;
  return USAGE_ERRORS.has(err.name) ? EXIT.usage : EXIT.unavailable;
}

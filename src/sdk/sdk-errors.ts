/**
 * Reading the errors the SDKs throw without importing the SDKs: the wrapper works with whichever
 * versions the application installed, so classes are recognised by name, not by `instanceof`.
 */

/** The class name an SDK gives its errors (`APIConnectionError`, `RateLimitError`, ...), else `name`. */
function kindOf(error: Error): string {
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Error' ? constructorName : error.name;
}

/** Whether the call ended because the caller aborted it (its signal, or the SDK's user-abort error). */
export function isAbort(error: unknown, signal: AbortSignal | null | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (kindOf(error) === 'APIUserAbortError' || error.name === 'AbortError');
}

/** A failure with no answer to describe it (connection refused, timeout): the SDK's error class and message. */
export function thrownErrorText(error: unknown): string {
  return error instanceof Error ? `${kindOf(error)}: ${error.message}` : 'the SDK call failed without an Error object';
}

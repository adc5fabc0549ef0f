import { errorIdentifier } from '../providers/errors.js';

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

/** SDK errors whose message is the SDK's own wording (`Connection error.`, `Request timed out.`), never a body's or a prompt's. */
const OWN_WORDS: ReadonlySet<string> = new Set(['APIConnectionError', 'APIConnectionTimeoutError']);

/** How a failure the answer does not describe is recorded. */
export interface ThrownFacts {
  /** In words that quote nothing: the error class, with its message only when that is the SDK's own wording. */
  error: string;
  /** The error class, when it is an identifier (`APIConnectionError`, `SyntaxError`). */
  errorType?: string;
  /** Any other message, which may quote the request or the answer: for the capture policy, as `content.error`. */
  message?: string;
}

/**
 * A failure with no error answer to describe it: a connection failure or timeout, or an error
 * raised after a good answer (a stream helper, `.parse()` reading the model's JSON, whose
 * messages quote the text they could not read). Only the SDK's fixed connection messages are
 * kept as words; any other message is handed to the capture policy.
 */
export function thrownErrorFacts(error: unknown): ThrownFacts {
  if (!(error instanceof Error)) return { error: 'the SDK call failed without an Error object' };
  const kind = kindOf(error);
  const errorType = errorIdentifier(kind);
  if (OWN_WORDS.has(kind)) return { error: `${kind}: ${error.message}`, ...(errorType === undefined ? {} : { errorType }) };
  return { error: errorType ?? 'the SDK call failed', ...(errorType === undefined ? {} : { errorType }), message: error.message };
}

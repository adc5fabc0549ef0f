import { ERROR_IDENTIFIER_PATTERN } from '../record/schema.js';
import type { CallError } from './types.js';
import { compact, isObject, objectAt, stringAt } from './json-fields.js';

/**
 * The error an upstream sent. Both providers nest it under `error`: OpenAI `{"error": {"message",
 * "type", "param", "code"}}` (`type` or `code` may be null), Anthropic `{"type": "error",
 * "error": {"type", "message"}}`. Each part is taken as sent, or left out when absent. A body
 * that is not such JSON (an HTML page from a proxy, say) gives nothing but the status.
 */
export function readUpstreamError(body: unknown, status: number | undefined): CallError {
  const error = objectAt(body, 'error');
  return compact({ status, type: stringAt(error, 'type'), code: stringAt(error, 'code'), message: stringAt(error, 'message') });
}

/** Whether a stream event's data is an error object in either provider's shape. */
export function isErrorPayload(data: unknown): boolean {
  return isObject(data) && (data.type === 'error' || isObject(data.error));
}

const IDENTIFIER = new RegExp(ERROR_IDENTIFIER_PATTERN);

/**
 * An error type or code from the wire, kept only when it looks like what providers send: a short
 * machine identifier (`invalid_request_error`, `context_length_exceeded`). Anything else (words,
 * a sentence, an oversized value) could be quoted input, and is dropped.
 */
export function errorIdentifier(value: string | undefined): string | undefined {
  return value !== undefined && IDENTIFIER.test(value) ? value : undefined;
}

/**
 * An error in words that quote nothing: its HTTP status, type and code, each only when present
 * and (type and code) an identifier, e.g. `HTTP 400 invalid_request_error (context_length_exceeded)`.
 * The message never enters it. An invalid answer is its status and the adapter's reason instead,
 * e.g. `HTTP 200 answer is not a valid OpenAI chat completion: not JSON`.
 */
export function errorSummary(error: { status?: number; type?: string; code?: string; reason?: string }): string {
  if (error.reason !== undefined) return error.status === undefined ? error.reason : `HTTP ${error.status} ${error.reason}`;
  const type = errorIdentifier(error.type);
  const code = errorIdentifier(error.code);
  const parts: string[] = [];
  if (error.status !== undefined) parts.push(`HTTP ${error.status}`);
  if (type !== undefined) parts.push(type);
  if (code !== undefined && code !== type) parts.push(type === undefined ? code : `(${code})`);
  return parts.length === 0 ? 'upstream error' : parts.join(' ');
}

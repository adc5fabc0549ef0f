import type { CallError } from './types.js';
import { isObject, objectAt, stringAt } from './json-fields.js';

/**
 * The error an upstream sent. Both providers nest it under `error` with `type` and `message`:
 * OpenAI `{"error": {"message", "type", "param", "code"}}`, Anthropic `{"type": "error",
 * "error": {"type", "message"}}`. OpenAI sometimes leaves `type` null and sets `code` instead.
 * A body that is not such JSON (an HTML page from a proxy, say) is never copied into the
 * record: only its status is.
 */
export function readUpstreamError(body: unknown, status: number | undefined): CallError {
  const error = objectAt(body, 'error');
  const type = stringAt(error, 'type') ?? stringAt(error, 'code') ?? (status === undefined ? 'stream_error' : `http_${status}`);
  const message = stringAt(error, 'message') ?? (status === undefined ? 'the stream reported an error without a message' : `upstream answered HTTP ${status} without a readable error body`);
  return status === undefined ? { type, message } : { status, type, message };
}

/** Whether a stream event's data is an error object in either provider's shape. */
export function isErrorPayload(data: unknown): boolean {
  return isObject(data) && (data.type === 'error' || isObject(data.error));
}

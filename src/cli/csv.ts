import type { Envelope } from '../record/types.js';

type Cell = string | number | boolean | undefined;

/**
 * The CSV columns, in order: one row per record, named in snake_case after the envelope fields.
 * Nested facts are flattened; lists are joined with ';'; metadata and capture facts are one cell of JSON each.
 */
export const CSV_COLUMNS: readonly (readonly [string, (e: Envelope, index: number) => Cell])[] = [
  ['index', (_, index) => index],
  ['id', (e) => e.id],
  ['ts', (e) => e.ts],
  ['kind', (e) => e.kind],
  ['event_type', (e) => e.eventType],
  ['component', (e) => e.component],
  ['trace_id', (e) => e.traceId],
  ['request_id', (e) => e.requestId],
  ['user', (e) => e.user],
  ['tenant', (e) => e.tenant],
  ['session', (e) => e.session],
  ['conversation', (e) => e.conversation],
  ['api_key_prefix', (e) => e.apiKeyPrefix],
  ['api_key_hash', (e) => e.apiKeyHash],
  ['provider', (e) => e.provider],
  ['model', (e) => e.model],
  ['endpoint', (e) => e.endpoint],
  ['status', (e) => e.status],
  ['http_status', (e) => e.httpStatus],
  ['error', (e) => e.error],
  ['error_truncated', (e) => e.errorTruncated],
  ['error_type', (e) => e.errorType],
  ['error_code', (e) => e.errorCode],
  ['input_tokens', (e) => e.inputTokens],
  ['output_tokens', (e) => e.outputTokens],
  ['reasoning_tokens', (e) => e.reasoningTokens],
  ['cached_tokens', (e) => e.cachedTokens],
  ['latency_ms', (e) => e.latencyMs],
  ['ttft_ms', (e) => e.ttftMs],
  ['cost_usd', (e) => e.costUsd],
  ['safety_passed', (e) => e.safety?.passed],
  ['safety_detectors', (e) => e.safety?.detectors?.join(';')],
  ['safety_block_reason', (e) => e.safety?.blockReason],
  ['safety_alerts', (e) => e.safety?.alerts?.join(';')],
  ['safety_sanitized', (e) => e.safety?.sanitized],
  ['tools_provided', (e) => e.toolsProvided],
  ['tool_calls', (e) => e.toolCalls],
  ['stop_reason', (e) => e.stopReason],
  ['message_count', (e) => e.messageCount],
  ['digest_alg', (e) => e.digests?.alg],
  ['digest_system', (e) => e.digests?.system],
  ['digest_input', (e) => e.digests?.input],
  ['digest_output', (e) => e.digests?.output],
  ['digest_headers', (e) => e.digests?.headers],
  ['digest_error', (e) => e.digests?.error],
  ['metadata', (e) => (e.metadata === undefined ? undefined : JSON.stringify(e.metadata))],
  ['capture', (e) => (e.capture === undefined ? undefined : JSON.stringify(e.capture))],
];

/** RFC 4180 records end in CRLF. */
const EOL = '\r\n';

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name).join(',') + EOL;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes doubled. Text that a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading
 * apostrophe, as OWASP advises for CSV meant to be opened in Excel; numbers are left as they are.
 */
export function csvField(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(envelope: Envelope, index: number): string {
  return CSV_COLUMNS.map(([, get]) => csvField(get(envelope, index))).join(',') + EOL;
}

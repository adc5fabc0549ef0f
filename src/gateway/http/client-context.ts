import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '../../record/types.js';
import { newId } from '../../record/ids.js';

/** What a client says about its call, from the `x-llm-ledger-*` headers and W3C `traceparent`. */
export interface ClientContext {
  requestId: string;
  traceId: string;
  user?: string;
  session?: string;
  conversation?: string;
  metadata?: Record<string, JsonValue>;
  /** `x-llm-ledger-capture`: lowers capture for this call, never raises it. */
  capture?: string;
}

export type ClientContextResult = { context: ClientContext; problem?: string };

// W3C Trace Context: version-traceid-parentid-flags, lower-case hex; version ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);
// A client's own request id is kept when it is a plain token; anything else gets a fresh id.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Identifiers are bounded as the record bounds them, and may not carry control characters.
const IDENTIFIER = /^[^\p{Cc}]{1,256}$/u;

/** The trace id of a valid `traceparent`, or undefined (an invalid header starts a new trace, as W3C says). */
export function traceIdFrom(traceparent: string | undefined): string | undefined {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (!match || match[1] === 'ff' || match[2] === ZERO_TRACE || match[3] === ZERO_PARENT) return undefined;
  // Version 00 has exactly four fields; later versions may add more.
  if (match[1] === '00' && match[4] !== undefined) return undefined;
  return match[2];
}

// Trace ids are cut from one block of random bytes, refilled when used up: a call into the
// system's random source for every request cost more than the rest of reading its headers.
const TRACE_ID_BYTES = 16;
const randomPool = Buffer.alloc(TRACE_ID_BYTES * 256);
let poolOffset = randomPool.length;

/** A new trace id in W3C form (128 random bits), so it can be handed on to other systems as is. */
export function newTraceId(): string {
  if (poolOffset === randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  const id = randomPool.toString('hex', poolOffset, poolOffset + TRACE_ID_BYTES);
  poolOffset += TRACE_ID_BYTES;
  return id;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Reads the client's context. Ids always come back, even with a problem, so an error answer
 * still carries them; a problem names the header and what to send instead.
 */
export function readClientContext(headers: IncomingHttpHeaders, maxMetadataBytes: number): ClientContextResult {
  const ownRequestId = single(headers, 'x-request-id');
  const context: ClientContext = {
    requestId: ownRequestId !== undefined && REQUEST_ID.test(ownRequestId) ? ownRequestId : newId(),
    traceId: traceIdFrom(single(headers, 'traceparent')) ?? newTraceId(),
  };
  const problems: string[] = [];
  for (const field of ['user', 'session', 'conversation'] as const) {
    const value = single(headers, `x-llm-ledger-${field}`);
    if (value === undefined) continue;
    if (IDENTIFIER.test(value)) context[field] = value;
    else problems.push(`x-llm-ledger-${field} must be 1 to 256 characters without control characters`);
  }
  const capture = single(headers, 'x-llm-ledger-capture');
  if (capture !== undefined) context.capture = capture.slice(0, 256);
  const metadata = single(headers, 'x-llm-ledger-metadata');
  if (metadata !== undefined) {
    const parsed = parseMetadata(metadata, maxMetadataBytes);
    if (typeof parsed === 'string') problems.push(parsed);
    else context.metadata = parsed;
  }
  return problems.length === 0 ? { context } : { context, problem: problems.join('; ') };
}

function parseMetadata(text: string, maxBytes: number): Record<string, JsonValue> | string {
  if (Buffer.byteLength(text) > maxBytes) return `x-llm-ledger-metadata must be at most ${maxBytes} bytes of JSON`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'x-llm-ledger-metadata must be a JSON object, e.g. {"app":"billing","ticket":"T-12"}';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'x-llm-ledger-metadata must be a JSON object, e.g. {"app":"billing","ticket":"T-12"}';
  if (!finite(value)) return 'x-llm-ledger-metadata has a number too large to record (such as 1e400); send it as a string';
  return value as Record<string, JsonValue>;
}

/** JSON.parse turns 1e400 into Infinity, which canonical JSON cannot hold. */
function finite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return true;
  return Object.values(value).every(finite);
}

import { Ajv, type ErrorObject } from 'ajv';
import { RecordValidationError, type RecordIssue } from './errors.js';
import { RECORD_KINDS, RECORD_STATUSES, type RecordInput } from './types.js';

// Identifiers are bounded so one runaway value cannot bloat every index that holds it.
const identifier = { type: 'string', minLength: 1, maxLength: 256 } as const;
const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const millis = { type: 'number', minimum: 0, maximum: 86_400_000 * 365 } as const;
const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;

/**
 * An error's type or code as providers send them (`invalid_request_error`, `context_length_exceeded`):
 * short machine identifiers, never words that could quote a prompt.
 */
export const ERROR_IDENTIFIER_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
const errorIdentifier = { type: 'string', pattern: ERROR_IDENTIFIER_PATTERN } as const;

/** Facts a record and each of its events may state. */
const FACTS = {
  component: identifier,
  provider: identifier,
  model: identifier,
  endpoint: identifier,
  status: { enum: RECORD_STATUSES },
  httpStatus: { type: 'integer', minimum: 100, maximum: 599 },
  error: { type: 'string' },
  errorType: errorIdentifier,
  errorCode: errorIdentifier,
  inputTokens: count,
  outputTokens: count,
  reasoningTokens: count,
  cachedTokens: count,
  latencyMs: millis,
  ttftMs: millis,
  costUsd: { type: 'number', minimum: 0, maximum: 1e9 },
  safety: {
    type: 'object',
    additionalProperties: false,
    properties: {
      passed: { type: 'boolean' },
      detectors: { type: 'array', items: identifier, maxItems: 64 },
      blockReason: text(1024),
      alerts: { type: 'array', items: text(1024), maxItems: 64 },
      sanitized: count,
    },
  },
  toolsProvided: count,
  toolCalls: count,
  stopReason: identifier,
  messageCount: count,
  // Values are checked by canonicalisation, which names the path of anything JSON cannot hold.
  metadata: { type: 'object' },
} as const;

const EVENT_TYPE = { type: 'string', pattern: '^[a-z][a-z0-9_.]{0,63}$' } as const;

/** Events a call's record may carry: a call with every retry and fallback stays far below. */
export const MAX_EVENTS_PER_RECORD = 1000;

/**
 * The record a caller may hand to `ledger.record()`, as JSON Schema. Compiled once by Ajv: it
 * runs for every record, and a compiled validator costs a third of what a parser-combinator does.
 */
export const RECORD_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { enum: RECORD_KINDS },
    eventType: EVENT_TYPE,
    traceId: identifier,
    requestId: identifier,
    timestamp: {},
    user: identifier,
    tenant: identifier,
    session: identifier,
    conversation: identifier,
    apiKey: { type: 'string', minLength: 1, maxLength: 4096 },
    ...FACTS,
    events: {
      type: 'array',
      maxItems: MAX_EVENTS_PER_RECORD,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'at'],
        properties: { type: EVENT_TYPE, at: millis, ...FACTS },
      },
    },
    content: {
      type: 'object',
      additionalProperties: false,
      properties: { system: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' }, error: { type: 'string' } },
    },
    headers: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 256 },
    capture: text(256),
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<RecordInput>(RECORD_INPUT_SCHEMA);

/** UTC only, with `Z`: a record whose time zone is ambiguous cannot be ordered or audited. */
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Checks a caller's record and returns it typed, or throws one error listing every problem. */
export function parseRecordInput(value: unknown): RecordInput {
  const issues = validate(value) ? [] : (validate.errors ?? []).map(toIssue);
  const timestamp = (value as { timestamp?: unknown } | null)?.timestamp;
  if (timestamp !== undefined && issues.length === 0) {
    const problem = timestampProblem(timestamp);
    if (problem) issues.push({ path: 'timestamp', message: problem });
  }
  if (issues.length > 0) throw new RecordValidationError(issues);
  return value as RecordInput;
}

function timestampProblem(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'is an invalid Date' : undefined;
  if (typeof value !== 'string' || !UTC_TIMESTAMP.test(value)) {
    return 'must be an ISO 8601 UTC timestamp ending in Z, e.g. 2026-01-31T12:00:00.000Z';
  }
  // Date.parse rolls 2026-02-30 over to March; a timestamp that does not round-trip is not real.
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== value.slice(0, 19)) return 'is not a real date and time';
  return undefined;
}

/** Ajv's terse messages, rewritten to say what the caller must change. */
function toIssue(e: ErrorObject): RecordIssue {
  const path = e.instancePath.slice(1).replaceAll('/', '.');
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path, message: `unknown field '${String(p.additionalProperty)}'` };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as string[]).join(', ')}` };
    case 'minimum':
      return { path, message: p.limit === 0 ? 'must not be negative' : `must be at least ${String(p.limit)}` };
    case 'maximum':
      return { path, message: `must be at most ${String(p.limit)}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'maxLength':
      return { path, message: `must be at most ${String(p.limit)} characters` };
    case 'maxItems':
      return { path, message: `must have at most ${String(p.limit)} items` };
    case 'maxProperties':
      return { path, message: `must have at most ${String(p.limit)} entries` };
    case 'type':
      return { path, message: p.type === 'integer' ? 'must be a whole number' : `must be ${article(String(p.type))}` };
    case 'pattern':
      return path === 'eventType' || /^events\.\d+\.type$/.test(path)
        ? { path, message: 'must be lower_snake_case (letters, digits, _ and .), at most 64 characters' }
        : { path, message: 'must be an identifier: 1 to 64 letters, digits, _ . or -' };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

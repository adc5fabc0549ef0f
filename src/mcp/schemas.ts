import { z } from 'zod';
import { STATS_GROUPS } from '../ledger/stats.js';
import { RECORD_KINDS, RECORD_STATUSES } from '../record/types.js';

// Bounds mirror the record schema (identifiers are at most 256 characters), so a value no record
// can hold is refused up front instead of costing a query.
const identifier = (what: string) => z.string().min(1).max(256).describe(what);
const optionalIdentifier = (what: string) => identifier(what).optional();
const dateArgument = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(
      `${what}: an ISO 8601 date or time in UTC (2026-01-31, 2026-01-31T09:30:00Z, or with an offset such as +02:00) or a relative age (30s, 15m, 24h, 7d, 2w)`,
    );

/** The SearchFilter fields every query tool accepts. */
export const filterFields = {
  since: dateArgument('Only records at or after this time'),
  until: dateArgument('Only records before this time'),
  model: optionalIdentifier('Model name, exactly as recorded (e.g. gpt-4o)'),
  provider: optionalIdentifier('Provider, exactly as recorded (e.g. openai, anthropic)'),
  user: optionalIdentifier('End user id'),
  session: optionalIdentifier('Session id'),
  conversation: optionalIdentifier('Conversation id'),
  keyPrefix: z.string().min(1).max(64).describe('Start of the API key prefix that was recorded (the key itself is never stored)').optional(),
  status: z.enum(RECORD_STATUSES).describe('Outcome of the call').optional(),
  kind: z.enum(RECORD_KINDS).describe('Record kind: llm.call for model calls, event for gateway component events').optional(),
  eventType: z.string().min(1).max(64).describe('Event type of an event record (e.g. request_received, policy_evaluated)').optional(),
  traceId: optionalIdentifier('Trace id: every record of one request shares it'),
  requestId: optionalIdentifier('Request id'),
};

export const searchInput = z.strictObject({
  ...filterFields,
  limit: z
    .number({ error: 'limit must be a number' })
    .int({ error: 'limit must be a whole number' })
    .min(1, { error: 'limit must be at least 1' })
    .max(100, { error: 'limit must be at most 100' })
    .default(20)
    .describe('At most this many records, newest first (1..100, default 20)'),
  cursor: z.string().min(1).max(256).optional().describe('The nextCursor of a previous audit_search with the same filters, for the next page'),
});

export const showInput = z.strictObject({
  id: z.string().min(1).max(64).optional().describe('Record id (UUIDv7) as returned by audit_search'),
  requestId: optionalIdentifier('Request id: shows the llm.call record of that request (or its newest record)'),
});

export const traceInput = z.strictObject({
  traceId: identifier('Trace id of the request whose records to list in log order'),
});

export const statsInput = z.strictObject({
  ...filterFields,
  by: z.enum(STATS_GROUPS).optional().describe('Also break the figures down by this field'),
});

export const verifyInput = z.strictObject({});

/** A record as tools return it: its log index and its envelope (never content). */
const loggedRecord = z.object({
  index: z.number().int().describe('Position in the log'),
  envelope: z
    .looseObject({ id: z.string(), ts: z.string(), kind: z.string(), traceId: z.string(), requestId: z.string() })
    .describe('The committed envelope: ids, time, who, model, status, tokens, cost, latency, digests; never prompt or response text'),
});

const statsRow = z.looseObject({
  key: z.string(),
  requests: z.number(),
  errors: z.number(),
  blocked: z.number(),
  errorRate: z.number(),
  blockRate: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  latencyP50: z.number().nullable(),
  latencyP95: z.number().nullable(),
  latencyP99: z.number().nullable(),
});

export const searchOutput = z.object({
  count: z.number().int(),
  records: z.array(loggedRecord),
  nextCursor: z.string().optional().describe('Present when more records may match: pass it as cursor'),
});

export const showOutput = z.object({
  record: loggedRecord,
  sameRequestId: z.number().int().describe("How many records carry this record's requestId (audit_search with requestId lists them)"),
});

export const traceOutput = z.object({
  traceId: z.string(),
  count: z.number().int(),
  records: z.array(loggedRecord).describe('In log order'),
  truncated: z.boolean().describe('True when the trace holds more records than were returned'),
});

export const statsOutput = z.object({
  totals: statsRow,
  groups: z.array(statsRow),
  groupCount: z.number().int().describe('Number of groups in all; only the largest are returned'),
});

export const verifyOutput = z.object({
  ok: z.boolean(),
  size: z.number().int(),
  firstBadIndex: z.number().int().nullable(),
  problems: z.array(z.object({ kind: z.string(), index: z.number().int().optional(), message: z.string() })),
  warnings: z.array(z.string()),
  checkpointsChecked: z.number().int(),
  anchoredCheckpointsChecked: z.number().int(),
  anchor: z.string().nullable(),
  verifiedSize: z.number().int(),
  coveredBySignature: z.number().int(),
  coveredByAnchor: z.number().int(),
  prunedBelow: z.number().int(),
});

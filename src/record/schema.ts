import { z } from 'zod';
import { RECORD_KINDS, RECORD_STATUSES, type RecordInput } from './types.js';
import { RecordValidationError } from './errors.js';

// Identifiers are bounded so one runaway value cannot bloat every index that holds it.
const identifier = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const count = z.number().int('must be a whole number').min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER);
const millis = z.number().min(0, 'must not be negative').max(86_400_000 * 365, 'is more than a year');

/** UTC only, with `Z`: a record whose time zone is ambiguous cannot be ordered or audited. */
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const timestamp = z.union([
  z.date().refine((d) => !Number.isNaN(d.getTime()), 'is an invalid Date'),
  z
    .string()
    .regex(UTC_TIMESTAMP, 'must be an ISO 8601 UTC timestamp ending in Z, e.g. 2026-01-31T12:00:00.000Z')
    .refine((s) => !Number.isNaN(Date.parse(s)) && sameCalendarDay(s), 'is not a real date and time'),
]);

// Date.parse rolls 2026-02-30 over to March; a timestamp that does not round-trip is not real.
function sameCalendarDay(s: string): boolean {
  return new Date(Date.parse(s)).toISOString().slice(0, 19) === s.slice(0, 19);
}

const EVENT_TYPE = /^[a-z][a-z0-9_.]{0,63}$/;

const recordInputSchema = z.strictObject({
  kind: z.enum(RECORD_KINDS, { error: `must be one of ${RECORD_KINDS.join(', ')}` }).optional(),
  eventType: z.string().regex(EVENT_TYPE, 'must be lower_snake_case (letters, digits, _ and .), at most 64 characters').optional(),
  component: identifier.optional(),
  traceId: identifier.optional(),
  requestId: identifier.optional(),
  timestamp: timestamp.optional(),
  user: identifier.optional(),
  tenant: identifier.optional(),
  session: identifier.optional(),
  conversation: identifier.optional(),
  apiKey: z.string().min(1).max(4096).optional(),
  provider: identifier.optional(),
  model: identifier.optional(),
  endpoint: identifier.optional(),
  status: z.enum(RECORD_STATUSES, { error: `must be one of ${RECORD_STATUSES.join(', ')}` }).optional(),
  httpStatus: z.number().int().min(100, 'must be an HTTP status (100-599)').max(599, 'must be an HTTP status (100-599)').optional(),
  error: z.string().optional(),
  inputTokens: count.optional(),
  outputTokens: count.optional(),
  reasoningTokens: count.optional(),
  cachedTokens: count.optional(),
  latencyMs: millis.optional(),
  ttftMs: millis.optional(),
  costUsd: z.number().min(0, 'must not be negative').max(1e9).optional(),
  safety: z
    .strictObject({
      passed: z.boolean().optional(),
      detectors: z.array(identifier).max(64).optional(),
      blockReason: z.string().max(1024).optional(),
      alerts: z.array(z.string().max(1024)).max(64).optional(),
      sanitized: count.optional(),
    })
    .optional(),
  toolsProvided: count.optional(),
  toolCalls: count.optional(),
  stopReason: identifier.optional(),
  messageCount: count.optional(),
  content: z
    .strictObject({ system: z.string().optional(), input: z.string().optional(), output: z.string().optional() })
    .optional(),
  metadata: z.record(z.string(), z.json()).optional(),
});

/** Checks a caller's record and returns it typed, or throws one error listing every problem. */
export function parseRecordInput(value: unknown): RecordInput {
  const result = recordInputSchema.safeParse(value);
  if (result.success) return result.data as RecordInput;
  throw new RecordValidationError(
    result.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : issue.message,
    })),
  );
}

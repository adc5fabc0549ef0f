import { fingerprintApiKey, type Digester } from '../crypto/digest.js';
import { canonicalJson } from './canonical.js';
import { RecordValidationError } from './errors.js';
import { newId } from './ids.js';
import { ENVELOPE_VERSION, type Digests, type Envelope, type RecordInput } from './types.js';

export interface EnvelopeLimits {
  maxMetadataBytes: number;
  maxErrorChars: number;
}

export interface EnvelopeContext {
  digester: Digester;
  limits: EnvelopeLimits;
}

/** The envelope plus the exact bytes the log commits to. */
export interface SealedEnvelope {
  envelope: Envelope;
  canonical: string;
}

const COPIED_FIELDS = [
  'component', 'user', 'tenant', 'session', 'conversation', 'provider', 'model', 'endpoint', 'status', 'httpStatus',
  'inputTokens', 'outputTokens', 'reasoningTokens', 'cachedTokens', 'latencyMs', 'ttftMs', 'costUsd', 'safety',
  'toolsProvided', 'toolCalls', 'stopReason', 'messageCount',
] as const satisfies readonly (keyof RecordInput & keyof Envelope)[];

/**
 * Turns a validated input into the envelope the log commits to: fills ids and time, replaces
 * the API key and content by digests, bounds the error text and checks the metadata size.
 */
export function sealEnvelope(input: RecordInput, ctx: EnvelopeContext): SealedEnvelope {
  const kind = input.kind ?? (input.eventType ? 'event' : 'llm.call');
  if (kind === 'event' && !input.eventType) {
    throw new RecordValidationError([{ path: 'eventType', message: "is required when kind is 'event'" }]);
  }
  const id = newId();
  const envelope: Envelope = {
    v: ENVELOPE_VERSION,
    id,
    ts: toUtcMillis(input.timestamp),
    kind,
    traceId: input.traceId ?? id,
    requestId: input.requestId ?? id,
  };
  if (input.eventType !== undefined) envelope.eventType = input.eventType;
  for (const field of COPIED_FIELDS) {
    if (input[field] !== undefined) (envelope as unknown as Record<string, unknown>)[field] = input[field];
  }
  if (kind === 'llm.call' && envelope.status === undefined) envelope.status = input.error ? 'error' : 'success';
  if (input.apiKey !== undefined) Object.assign(envelope, fingerprintApiKey(input.apiKey));
  if (input.error !== undefined) boundError(envelope, input.error, ctx.limits.maxErrorChars);
  if (input.content) {
    const digests = digestContent(input.content, ctx.digester);
    if (digests) envelope.digests = digests;
  }
  if (input.metadata !== undefined) {
    const bytes = Buffer.byteLength(canonicalJson(input.metadata));
    if (bytes > ctx.limits.maxMetadataBytes) {
      throw new RecordValidationError([
        { path: 'metadata', message: `is ${bytes} bytes as canonical JSON; the limit is ${ctx.limits.maxMetadataBytes} (limits.max_metadata_bytes)` },
      ]);
    }
    envelope.metadata = input.metadata;
  }
  return { envelope, canonical: canonicalJson(envelope) };
}

function toUtcMillis(timestamp: string | Date | undefined): string {
  if (timestamp === undefined) return new Date().toISOString();
  return (typeof timestamp === 'string' ? new Date(Date.parse(timestamp)) : timestamp).toISOString();
}

function boundError(envelope: Envelope, error: string, maxChars: number): void {
  if (error.length <= maxChars) {
    envelope.error = error;
    return;
  }
  // Cut on a code point boundary: half a surrogate pair is not valid text and breaks JCS.
  let end = maxChars;
  const last = error.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  envelope.error = error.slice(0, end);
  envelope.errorTruncated = true;
}

function digestContent(content: NonNullable<RecordInput['content']>, digester: Digester): Digests | undefined {
  if (content.system === undefined && content.input === undefined && content.output === undefined) return undefined;
  const digests: Digests = { alg: digester.algorithm };
  if (content.system !== undefined) digests.system = digester.digest(content.system);
  if (content.input !== undefined) digests.input = digester.digest(content.input);
  if (content.output !== undefined) digests.output = digester.digest(content.output);
  return digests;
}

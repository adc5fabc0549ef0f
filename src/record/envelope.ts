import type { CapturePolicy, CaptureResult } from '../capture/policy.js';
import { fingerprintApiKey } from '../crypto/digest.js';
import { leanEvent } from './call-events.js';
import { CanonicalJsonError, canonicalCopy, canonicalJson } from './canonical.js';
import { RecordValidationError } from './errors.js';
import { newId } from './ids.js';
import {
  ENVELOPE_VERSION,
  type CallEvent,
  type CaptureFacts,
  type Digests,
  type Envelope,
  type RecordInput,
  type SafetyFacts,
  type StoredFieldFacts,
} from './types.js';

/**
 * How deeply objects and arrays may nest in a record's metadata, `metadata` itself being level 1.
 * Deeper (or circular) metadata is refused: it would otherwise exhaust the stack of the walk that
 * copies it, and no audit fact needs more.
 */
export const MAX_METADATA_DEPTH = 32;

export interface EnvelopeLimits {
  maxMetadataBytes: number;
  maxErrorChars: number;
}

export interface EnvelopeContext {
  /** Decides, per call, what of its text is digested and what is stored apart from the envelope. */
  capture: CapturePolicy;
  limits: EnvelopeLimits;
}

/** The envelope, the exact bytes the log commits to, and the content to store beside it, if any. */
export interface SealedEnvelope {
  envelope: Envelope;
  canonical: string;
  content?: CaptureResult['content'];
}

/**
 * JSON.stringify writes a lone surrogate as an escape; RFC 8785 forbids it. Such an escape is
 * preceded by an odd number of backslashes (an even number is escaped backslashes, not an escape).
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

/**
 * Turns a validated input into the envelope the log commits to: fills ids and time, replaces
 * the API key and content by digests, bounds the error text and checks the metadata size.
 *
 * The object literal lists its keys in RFC 8785 order, and nested objects are built (or copied)
 * in that order too, so one JSON.stringify yields the canonical bytes: this runs for every
 * record. A test holds the result against the generic `canonicalJson` on random records.
 */
export function sealEnvelope(input: RecordInput, ctx: EnvelopeContext): SealedEnvelope {
  const kind = input.kind ?? (input.eventType ? 'event' : 'llm.call');
  if (kind === 'event' && !input.eventType) {
    throw new RecordValidationError([{ path: 'eventType', message: "is required when kind is 'event'" }]);
  }
  const id = newId();
  const captured = input.content === undefined && input.headers === undefined ? undefined : applyCapture(input, ctx.capture);
  const key = input.apiKey === undefined ? undefined : fingerprintApiKey(input.apiKey);
  const error = input.error === undefined ? undefined : boundError(input.error, ctx.limits.maxErrorChars);
  const metadata = input.metadata === undefined ? undefined : sortedMetadata(input.metadata);
  const envelope: Envelope = {
    apiKeyHash: key?.apiKeyHash,
    apiKeyPrefix: key?.apiKeyPrefix,
    cachedTokens: input.cachedTokens,
    capture: captured && captureFacts(captured),
    component: input.component,
    conversation: input.conversation,
    costUsd: input.costUsd,
    digests: captured && sortedDigests(captured),
    endpoint: input.endpoint,
    error: error?.text,
    errorCode: input.errorCode,
    errorTruncated: error?.truncated,
    errorType: input.errorType,
    eventType: input.eventType,
    events: undefined,
    httpStatus: input.httpStatus,
    id,
    inputTokens: input.inputTokens,
    kind,
    latencyMs: input.latencyMs,
    messageCount: input.messageCount,
    metadata: metadata?.copy,
    model: input.model,
    outputTokens: input.outputTokens,
    provider: input.provider,
    reasoningTokens: input.reasoningTokens,
    requestId: input.requestId ?? id,
    safety: input.safety && sortedSafety(input.safety),
    session: input.session,
    status: input.status ?? (kind === 'llm.call' ? (failed(input) ? 'error' : 'success') : undefined),
    stopReason: input.stopReason,
    tenant: input.tenant,
    toolCalls: input.toolCalls,
    toolsProvided: input.toolsProvided,
    traceId: input.traceId ?? id,
    ts: toUtcMillis(input.timestamp),
    ttftMs: input.ttftMs,
    user: input.user,
    v: ENVELOPE_VERSION,
  };
  const events = input.events === undefined ? undefined : sealedEvents(input.events, envelope, ctx.limits.maxErrorChars);
  envelope.events = events?.copy;
  // Index-like metadata keys ("1") defeat insertion order; those rare records take the generic path.
  const canonical = metadata?.needsGenericPath || events?.needsGenericPath ? canonicalJson(envelope) : JSON.stringify(envelope);
  checkMetadataSize(envelope, canonical, ctx.limits.maxMetadataBytes);
  // The plain search rules out almost every record at a tenth of the regular expression's cost.
  if (canonical.includes('\\ud') && LONE_SURROGATE_ESCAPE.test(canonical)) {
    throw new RecordValidationError([{ path: '', message: 'contains text with a lone surrogate, which is not valid Unicode' }]);
  }
  const content = captured?.content;
  return content && anyStored(content) ? { envelope, canonical, content } : { envelope, canonical };
}

/** A call that states an error, in words, by type or code, or by its message, failed. */
function failed(input: RecordInput): boolean {
  return Boolean(input.error || input.errorType || input.errorCode || input.content?.error !== undefined);
}

function anyStored(content: CaptureResult['content']): boolean {
  return Boolean(content.system || content.input || content.output || content.error || content.headers);
}

function applyCapture(input: RecordInput, policy: CapturePolicy): CaptureResult {
  return policy.apply({
    model: input.model,
    system: input.content?.system,
    input: input.content?.input,
    output: input.content?.output,
    error: input.content?.error,
    headers: input.headers,
    lower: input.capture,
  });
}

function sortedMetadata(metadata: Record<string, unknown>, path = 'metadata'): { copy: Envelope['metadata']; needsGenericPath: boolean } {
  try {
    const copy = canonicalCopy(metadata, path, MAX_METADATA_DEPTH);
    return { copy: copy.value as Envelope['metadata'], needsGenericPath: copy.indexKeys };
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new RecordValidationError([{ path: err.path, message: err.problem }]);
    throw err;
  }
}

/**
 * Metadata (the record's and its events', counted together) is part of the envelope, so only an
 * envelope over the limit needs its metadata measured.
 */
function checkMetadataSize(envelope: Envelope, canonical: string, maxBytes: number): void {
  if ((envelope.metadata === undefined && envelope.events === undefined) || canonical.length * 3 <= maxBytes) return;
  let bytes = envelope.metadata === undefined ? 0 : Buffer.byteLength(canonicalJson(envelope.metadata));
  for (const event of envelope.events ?? []) if (event.metadata !== undefined) bytes += Buffer.byteLength(canonicalJson(event.metadata));
  if (bytes > maxBytes) {
    const path = envelope.events?.some((event) => event.metadata !== undefined) ? "metadata (with the events' metadata)" : 'metadata';
    throw new RecordValidationError([{ path, message: `is ${bytes} bytes as canonical JSON; the limit is ${maxBytes} (limits.max_metadata_bytes)` }]);
  }
}

/** The call's events, lean (see call-events.ts), errors bounded, keys in RFC 8785 order. */
function sealedEvents(events: CallEvent[], record: Envelope, maxErrorChars: number): { copy: CallEvent[]; needsGenericPath: boolean } {
  let needsGenericPath = false;
  const copy = events.map((event, i) => {
    const sealed = leanEvent(event, record);
    if (sealed.error !== undefined) {
      const error = boundError(sealed.error, maxErrorChars);
      sealed.error = error.text;
      if (error.truncated) sealed.errorTruncated = true;
    }
    if (sealed.safety !== undefined) sealed.safety = sortedSafety(sealed.safety);
    if (sealed.metadata !== undefined) {
      const metadata = sortedMetadata(sealed.metadata, `events[${i}].metadata`);
      sealed.metadata = metadata.copy;
      needsGenericPath ||= metadata.needsGenericPath;
    }
    return sealed;
  });
  return { copy, needsGenericPath };
}

function sortedSafety(s: SafetyFacts): SafetyFacts {
  return { alerts: s.alerts, blockReason: s.blockReason, detectors: s.detectors, passed: s.passed, sanitized: s.sanitized };
}

/** Records arriving in the same millisecond share one formatted time. */
let lastNow = { ms: 0, iso: new Date(0).toISOString() };

function toUtcMillis(timestamp: string | Date | undefined): string {
  if (timestamp === undefined) {
    const ms = Date.now();
    if (ms !== lastNow.ms) lastNow = { ms, iso: new Date(ms).toISOString() };
    return lastNow.iso;
  }
  return (typeof timestamp === 'string' ? new Date(Date.parse(timestamp)) : timestamp).toISOString();
}

function boundError(error: string, maxChars: number): { text: string; truncated?: true } {
  if (error.length <= maxChars) return { text: error };
  // Cut on a code point boundary: half a surrogate pair is not valid text and breaks JCS.
  let end = maxChars;
  const last = error.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: error.slice(0, end), truncated: true };
}

/** The policy's digests in RFC 8785 key order, with the headers digest among them. */
function sortedDigests(captured: CaptureResult): Digests | undefined {
  const d = captured.digests;
  if (!d && captured.headersDigest === undefined) return undefined;
  return { alg: d?.alg ?? 'hmac-sha256', error: d?.error, headers: captured.headersDigest, input: d?.input, output: d?.output, system: d?.system };
}

/** What the envelope says about capture, keys in RFC 8785 order; never any of the text. */
function captureFacts(captured: CaptureResult): CaptureFacts {
  const { content, modes, pii } = captured;
  const facts = (f: { mode: StoredFieldFacts['mode']; bytes?: number; truncated: boolean; redactions: number } | undefined, bytes?: number) =>
    f && { bytes: f.bytes ?? bytes ?? 0, mode: f.mode, redactions: f.redactions, truncated: f.truncated };
  const fields = anyStored(content)
    ? {
        error: facts(content.error),
        headers: facts(content.headers, content.headers && Buffer.byteLength(Object.values(content.headers.values).join(''))),
        input: facts(content.input),
        output: facts(content.output),
        system: facts(content.system),
      }
    : undefined;
  return {
    excluded: captured.excluded ? true : undefined,
    fields,
    headers: modes.headers,
    pii: pii.total > 0 ? { findings: Object.fromEntries(Object.entries(pii.findings).sort(([a], [b]) => (a < b ? -1 : 1))), total: pii.total } : undefined,
    prompts: modes.prompts,
    responses: modes.responses,
  };
}

/** Record kinds the log accepts. Anything else is rejected so a typo cannot create a new kind. */
export const RECORD_KINDS = ['llm.call', 'event', 'content_accessed', 'erasure', 'retention'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const RECORD_STATUSES = ['success', 'error', 'blocked', 'escalated', 'aborted'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/** Version of the canonical envelope format; part of every leaf so a format change is never ambiguous. */
export const ENVELOPE_VERSION = 1;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  reasoningTokens?: number;
  cachedTokens?: number;
}

export interface SafetyFacts {
  passed?: boolean;
  detectors?: string[];
  blockReason?: string;
  alerts?: string[];
  sanitized?: number;
}

/** Text the digests are computed from. The text itself never enters the envelope. */
export interface ContentInput {
  system?: string;
  input?: string;
  output?: string;
}

/** Facts a caller states and the envelope keeps as they are. */
export interface CallFacts extends TokenUsage {
  eventType?: string;
  component?: string;
  user?: string;
  tenant?: string;
  session?: string;
  conversation?: string;
  provider?: string;
  model?: string;
  endpoint?: string;
  status?: RecordStatus;
  httpStatus?: number;
  latencyMs?: number;
  ttftMs?: number;
  costUsd?: number;
  safety?: SafetyFacts;
  toolsProvided?: number;
  toolCalls?: number;
  stopReason?: string;
  messageCount?: number;
  metadata?: Record<string, JsonValue>;
}

/** What a caller hands to `ledger.record()`. Ids and timestamps are filled in when absent. */
export interface RecordInput extends CallFacts {
  kind?: RecordKind;
  traceId?: string;
  requestId?: string;
  timestamp?: string | Date;
  /** The raw API key: only its SHA-256 and a short prefix are kept. */
  apiKey?: string;
  error?: string;
  content?: ContentInput;
}

export interface Digests {
  alg: 'hmac-sha256' | 'sha256';
  system?: string;
  input?: string;
  output?: string;
}

/**
 * The committed part of a record. Its canonical (RFC 8785) bytes are the Merkle leaf, so every
 * field here is tamper-evident. It never holds prompt or response text.
 */
export interface Envelope extends CallFacts {
  v: typeof ENVELOPE_VERSION;
  id: string;
  ts: string;
  kind: RecordKind;
  traceId: string;
  requestId: string;
  apiKeyHash?: string;
  apiKeyPrefix?: string;
  /** Bounded to `limits.max_error_chars`; `errorTruncated` says when it was cut. */
  error?: string;
  errorTruncated?: boolean;
  digests?: Digests;
}

/** An envelope as it sits in the log, at its position. */
export interface LoggedRecord {
  index: number;
  envelope: Envelope;
}

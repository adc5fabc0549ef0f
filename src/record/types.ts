import type { Digests } from '../capture/digests.js';

/** Record kinds the log accepts. Anything else is rejected so a typo cannot create a new kind. */
export const RECORD_KINDS = ['llm.call', 'event', 'content_accessed', 'erasure', 'retention'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const RECORD_STATUSES = ['success', 'error', 'blocked', 'escalated', 'aborted'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/**
 * Version of the canonical envelope format; part of every leaf so a format change is never
 * ambiguous. 2: a call's own events travel inside its record (`events`); records of version 1
 * (one record per event) are read, verified and searched as they were written.
 */
export const ENVELOPE_VERSION = 2;
export type EnvelopeVersion = 1 | typeof ENVELOPE_VERSION;

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
  /**
   * The message of an error the call ended with, as an upstream or an SDK worded it: it may quote
   * the prompt, so it is kept as the capture policy keeps response text (`capture.responses`).
   */
  error?: string;
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

/**
 * One event of a call's serving (request received, a policy evaluated, a routing attempt, ...),
 * kept inside the call's record: the record's ids, user, team, session and conversation are the
 * event's, so it never repeats them (see src/record/call-events.ts for what else it leaves out).
 */
export interface CallEvent extends Omit<CallFacts, 'eventType' | 'user' | 'tenant' | 'session' | 'conversation'> {
  /** The event type (`request_received`, `policy_evaluated`, `request_blocked`, ...). */
  type: string;
  /** Milliseconds from the call's start (the record's `ts` minus its `latencyMs`) to the event. */
  at: number;
  error?: string;
  /** Set when `error` was cut to `limits.max_error_chars`. */
  errorTruncated?: boolean;
  errorType?: string;
  errorCode?: string;
}

/** What a caller hands to `ledger.record()`. Ids and timestamps are filled in when absent. */
export interface RecordInput extends CallFacts {
  /** The call's own events, in the order they happened; committed and proven with the record. */
  events?: CallEvent[];
  kind?: RecordKind;
  traceId?: string;
  requestId?: string;
  timestamp?: string | Date;
  /** The raw API key: only its SHA-256 and a short prefix are kept. */
  apiKey?: string;
  /** Why the call failed, in words, kept in the envelope as given: text that may quote a prompt belongs in `content.error`. */
  error?: string;
  /** The error's type, a short identifier (`invalid_request_error`): 1-64 of `A-Z a-z 0-9 _ . -`. */
  errorType?: string;
  /** The error's code, a short identifier (`context_length_exceeded`), as `errorType`. */
  errorCode?: string;
  /** Prompt and response text: kept as the capture policy says (by default, digests only). */
  content?: ContentInput;
  /** Request headers: only names on `capture.headers_allow` are kept, never credentials. */
  headers?: Record<string, string>;
  /**
   * Lowers capture for this call only, in the `x-llm-ledger-capture` header's syntax: `hash`,
   * `none`, or per class, `prompts=none,responses=hash`. A request can never raise capture.
   */
  capture?: string;
}

/** Defined in capture, which takes them; part of the record model through `Envelope.digests`. */
export type { Digests };

export type CaptureMode = 'none' | 'hash' | 'encrypted' | 'plaintext';
export type ContentField = 'system' | 'input' | 'output' | 'error' | 'headers';

/** What was kept of one stored field: facts about the text, never the text. */
export interface StoredFieldFacts {
  /** UTF-8 size of the original text. */
  bytes: number;
  mode: 'encrypted' | 'plaintext';
  /** Spans the PII redactor replaced before storing. */
  redactions: number;
  /** The stored text was cut at `capture.max_body_size`. */
  truncated: boolean;
}

/** How the capture policy treated one call, committed with the envelope so an auditor sees it. */
export interface CaptureFacts {
  /** The model is on `capture.exclude_models`: nothing of the text was kept. */
  excluded?: true;
  /** Fields whose content is stored apart from the envelope (deletable by erasure and retention). */
  fields?: Partial<Record<ContentField, StoredFieldFacts>>;
  headers: CaptureMode;
  /** Replaced spans per PII detector, over all stored fields. */
  pii?: { findings: Record<string, number>; total: number };
  prompts: CaptureMode;
  responses: CaptureMode;
}

/**
 * The committed part of a record. Its canonical (RFC 8785) bytes are the Merkle leaf, so every
 * field here is tamper-evident. It never holds prompt or response text.
 */
export interface Envelope extends CallFacts {
  v: EnvelopeVersion;
  id: string;
  ts: string;
  kind: RecordKind;
  traceId: string;
  requestId: string;
  apiKeyHash?: string;
  apiKeyPrefix?: string;
  /**
   * Bounded to `limits.max_error_chars`; `errorTruncated` says when it was cut. The gateway and
   * the SDK wrappers never put an upstream's error message here, only its status, type and code:
   * the message goes through the capture policy (`digests.error`, stored as the `error` field).
   */
  error?: string;
  errorTruncated?: boolean;
  errorType?: string;
  errorCode?: string;
  digests?: Digests;
  capture?: CaptureFacts;
  /** The call's own events, as committed (lean: see src/record/call-events.ts). */
  events?: CallEvent[];
}

/** An envelope as it sits in the log, at its position. */
export interface LoggedRecord {
  index: number;
  envelope: Envelope;
}

/**
 * One entry of a trace's timeline: a record, or (with `event`) one of the events a record carries,
 * shown as the event record it stood for in version 1: kind `event`, the record's ids, user and
 * team, its own time. Its `index` and `envelope.id` are the carrying record's, whose proof covers it.
 */
export interface TimelineEntry extends LoggedRecord {
  /** Position of the event in its record's `events`. */
  event?: number;
}

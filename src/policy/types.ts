/**
 * The vocabulary of governance: what a policy is shown at a checkpoint, and what it decides.
 * Policies know nothing of HTTP or of any wire format; the gateway turns a request or an answer
 * into a `PolicySubject` and acts on the `Evaluation` the engine returns.
 */

/** In precedence order, strongest first: one BLOCK outweighs any number of the others. */
export const OUTCOMES = ['BLOCK', 'ESCALATE', 'REDACT', 'ALLOW'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const CHECKPOINTS = ['request', 'response'] as const;
/** `request`: before anything goes upstream. `response`: before the answer reaches the client. */
export type Checkpoint = (typeof CHECKPOINTS)[number];

/** What a policy may look at. Texts are read-only here; a REDACT verdict says what to replace. */
export interface PolicySubject {
  checkpoint: Checkpoint;
  /** The model the client asked for. */
  model?: string;
  /** The endpoint, e.g. `chat.completions`, `messages`. */
  endpoint: string;
  user?: string;
  team?: string;
  /** SHA-256 (hex) of the key the client presented, or undefined when it presented none. */
  keyHash?: string;
  /** The request's cap on generated tokens, when it sets one. */
  maxOutputTokens?: number;
  /** Request checkpoint: what the model would read. Response checkpoint: what it wrote. */
  texts: readonly string[];
}

/** A stretch of text a text rule objects to, and what stands in for it when it is redacted. */
export interface TextFinding {
  start: number;
  end: number;
  /** The detector or pattern that matched: never the matched text. */
  label: string;
  replacement: string;
}

/** Finds what a text rule objects to; also used window by window on streamed answers. */
export interface TextScanner {
  scan(text: string): TextFinding[];
}

export interface Verdict {
  outcome: Outcome;
  /**
   * Why, in the policy's own words: recorded in the audit log and sent to a blocked client, so it
   * must never quote the prompt or the answer (name what matched, not the text).
   */
  reason?: string;
  /** Matches per detector or pattern name, for the record. */
  findings?: Record<string, number>;
  /** REDACT of texts: the scanner whose findings are replaced in every text of the subject. */
  redact?: TextScanner;
  /** REDACT of the output cap: the cap the request is lowered to. */
  clampOutputTokens?: number;
  /** BLOCK: the HTTP status the client gets instead of 403 (a rate limit answers 429). */
  httpStatus?: number;
  /** BLOCK with 429: when the client may try again. */
  retryAfterMs?: number;
}

/** How an escalation waits for a human: `hold` the client's request, or answer `async` (202) at once. */
export interface ReviewSettings {
  mode: 'hold' | 'async';
  /** Hold mode: how long the request waits for a decision before it is rejected. */
  timeoutMs: number;
}

export interface Policy {
  readonly name: string;
  /** The kind of rule (`models`, `pattern`, ...), recorded with each evaluation. */
  readonly type: string;
  readonly checkpoints: ReadonlySet<Checkpoint>;
  /** For a policy that may ESCALATE: how the review waits. */
  readonly review?: ReviewSettings;
  /**
   * Decides for one subject. May be asynchronous. A policy that throws, or does not answer
   * within the engine's timeout, counts as BLOCK: governance fails closed.
   */
  evaluate(subject: PolicySubject): Verdict | Promise<Verdict>;
  /** Text rules only: scans streamed answers window by window (see the gateway's stream guard). */
  readonly scanner?: TextScanner;
  /** The action a text rule takes on a finding, for the stream guard. */
  readonly action?: Exclude<Outcome, 'ALLOW'>;
}

/** What a finished call tells policies that keep state (spend for budgets). */
export interface CallOutcome {
  user?: string;
  team?: string;
  costUsd?: number;
}

/** A policy that learns from finished calls. */
export interface Accounting {
  observe(call: CallOutcome): void;
}

import type { Checkpoint } from '../policy/types.js';
import type { ContentInput } from '../record/types.js';

export const DECISIONS = ['approved', 'rejected'] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * `pending`: waiting for a reviewer. `expired`: a held request's wait ended with no decision on
 * record (the gateway holding it stopped first); nothing can be approved any more.
 */
export type ReviewStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** What every review states: which call, where it was stopped, by which policy and why. */
interface ReviewBasics {
  traceId: string;
  requestId: string;
  checkpoint: Checkpoint;
  /** The policy that escalated, and its reason (its own words, never the content). */
  policy: string;
  reason: string;
  mode: 'hold' | 'async';
}

/** An escalation, as the gateway hands it to the review desk. */
export interface ReviewRequest extends ReviewBasics {
  /** Hold mode: when the request stops waiting. */
  timeoutMs?: number;
  user?: string;
  tenant?: string;
  session?: string;
  conversation?: string;
  /** The caller's key: only its hash and prefix are recorded, and an async approval is bound to it. */
  apiKey?: string;
  model?: string;
  provider?: string;
  endpoint?: string;
  /** What is under review (the prompt, or the answer). Kept only as the capture policy says. */
  content: ContentInput;
  /** The request's own capture lowering (`x-llm-ledger-capture`). */
  capture?: string;
}

export interface DecisionInput {
  decision: Decision;
  /** Who decided: a configured reviewer's name, or `llm-ledger` for a timeout. */
  reviewer: string;
  reason: string;
}

export interface Review extends ReviewBasics {
  id: string;
  createdAt: string;
  /** Hold mode: when the held request stops waiting (ISO 8601). */
  deadline?: string;
  status: ReviewStatus;
  user?: string;
  tenant?: string;
  model?: string;
  endpoint?: string;
  /** Whether the content under review was stored (encrypted or plaintext) and so can be revealed. */
  contentStored: boolean;
  decision?: { decision: Decision; reviewer: string; reason: string; decidedAt: string; timedOut?: boolean };
}

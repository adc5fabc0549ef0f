import type { ServerResponse } from 'node:http';
import type { PolicyEngine } from '../../policy/engine.js';
import { dropLogprobs } from '../../providers/logprobs.js';
import type { CallState } from './call-record.js';
import { escalate } from '../governance/escalation.js';
import { redactSlots, runCheckpoint } from '../governance/governance.js';
import { refuseCall, refuseReviewed, type Refusal } from '../governance/policy-answers.js';
import type { GatewayRuntime } from '../runtime.js';
import type { GuardRule } from './stream-guard.js';
import { UNRECORDED } from './call-finish.js';
import type { GatewayError } from '../http/wire-errors.js';

/** What becomes of a checked answer. */
export type AnswerVerdict =
  | { kind: 'deliver' }
  /** Redacted: this JSON goes to the client instead of the upstream's bytes. */
  | { kind: 'redacted'; body: string }
  | { kind: 'refuse'; error: GatewayError; headers: Record<string, string> }
  /** The client went away while the answer was under review. */
  | { kind: 'gone' };

/** The text rules of the response checkpoint, as the stream guard applies them. */
export function guardRules(engine: PolicyEngine): GuardRule[] {
  const rules: GuardRule[] = [];
  for (const policy of engine.at('response')) {
    const { scanner, action } = policy;
    if (scanner && action) rules.push({ policy, action, scan: (text) => scanner.scan(text) });
  }
  return rules;
}

/**
 * Judges a complete, non-streamed answer at the response checkpoint: BLOCK withholds it (the
 * client gets 403 naming the policy), ESCALATE holds it until a reviewer decides, REDACT rewrites
 * its texts. `answer` is the parsed body; it is rewritten in place when redacted.
 */
export async function checkAnswer(runtime: GatewayRuntime, call: CallState, res: ServerResponse, answer: Record<string, unknown>): Promise<AnswerVerdict> {
  const slots = call.adapter.responseTexts(answer);
  const evaluation = await runCheckpoint(
    runtime,
    call,
    'response',
    slots.map((slot) => slot.text),
  );
  const by = evaluation.decidedBy;
  if (evaluation.outcome === 'BLOCK') return refused(call, { policy: by!.policy.name, reason: by!.reason ?? 'blocked' });
  if (evaluation.outcome === 'ESCALATE') {
    const output = call.response?.output;
    const outcome = await escalate(runtime, call, res, 'response', by!, output === undefined ? {} : { output });
    if (outcome.kind === 'gone') {
      call.status = 'aborted';
      return { kind: 'gone' };
    }
    if (outcome.kind === 'unrecorded')
      return {
        kind: 'refuse',
        error: { ...UNRECORDED, message: 'this answer needs a review, and the audit ledger could not record it, so it is withheld; retry later' },
        headers: {},
      };
    // An answer under review is always held (escalate never answers async at this checkpoint).
    if (outcome.kind === 'rejected') return { kind: 'refuse', ...refuseReviewed(call, 'response', by!.policy.name, outcome.review) };
  }
  if (evaluation.redactions.length === 0 || redactSlots(call, slots, evaluation) === 0) return { kind: 'deliver' };
  dropLogprobs(answer);
  return { kind: 'redacted', body: JSON.stringify(answer) };
}

function refused(call: CallState, refusal: Refusal): { kind: 'refuse'; error: GatewayError; headers: Record<string, string> } {
  return { kind: 'refuse', ...refuseCall(call, 'response', refusal) };
}

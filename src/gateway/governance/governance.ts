import { createHash } from 'node:crypto';
import type { Evaluation } from '../../policy/engine.js';
import { redactText } from '../../policy/redact.js';
import type { Checkpoint, PolicySubject } from '../../policy/types.js';
import type { TextSlot } from '../../providers/types.js';
import type { JsonValue } from '../../record/types.js';
import type { CallState } from '../call/call-record.js';
import type { GatewayRuntime } from '../runtime.js';

/** What a checkpoint shows the policies, from the call as the gateway has it. */
function subjectOf(call: CallState, checkpoint: Checkpoint, texts: readonly string[], maxOutputTokens: number | undefined): PolicySubject {
  const subject: PolicySubject = { checkpoint, endpoint: call.adapter.endpoint, texts };
  const model = call.request?.model;
  if (model !== undefined) subject.model = model;
  const user = call.identity?.user ?? call.context.user;
  if (user !== undefined) subject.user = user;
  if (call.identity?.tenant !== undefined) subject.team = call.identity.tenant;
  if (call.identity?.apiKey !== undefined) subject.keyHash = call.keyHash ??= createHash('sha256').update(call.identity.apiKey).digest('hex');
  if (maxOutputTokens !== undefined) subject.maxOutputTokens = maxOutputTokens;
  return subject;
}

/**
 * Runs the policies of one checkpoint over a call and writes what they decided into its trace:
 * `policy_evaluation_start`, one `policy_evaluated` per policy, `policy_evaluation_complete`.
 * The call's safety facts (for its `llm.call` record) gather what fired. Reasons and finding
 * names are the policies' own words: no event quotes the prompt or the answer.
 */
export async function runCheckpoint(
  runtime: GatewayRuntime,
  call: CallState,
  checkpoint: Checkpoint,
  texts: readonly string[],
  maxOutputTokens?: number,
): Promise<Evaluation> {
  const engine = runtime.settings.policies;
  const { trace } = call;
  trace.event('policy_evaluation_start', 'policy', { metadata: { checkpoint, policies: engine.at(checkpoint).map((p) => p.name) } });
  const evaluation = await engine.evaluate(subjectOf(call, checkpoint, texts, maxOutputTokens));
  const safety = (call.safety ??= {});
  for (const result of evaluation.results) {
    const metadata: Record<string, JsonValue> = { policy: result.policy.name, type: result.policy.type, checkpoint, outcome: result.outcome };
    if (result.reason !== undefined) metadata.reason = result.reason;
    if (result.findings !== undefined) metadata.findings = result.findings;
    if (result.failed !== undefined) metadata.failed = result.failed;
    trace.event('policy_evaluated', 'policy', {
      latencyMs: result.durationMs,
      safety: { passed: result.outcome !== 'BLOCK', ...(result.findings ? { detectors: Object.keys(result.findings) } : {}) },
      metadata,
    });
    if (result.findings) safety.detectors = [...new Set([...(safety.detectors ?? []), ...Object.keys(result.findings)])].slice(0, 64);
    if (result.outcome === 'ESCALATE') (safety.alerts ??= []).push(`${result.policy.name}: ${result.reason ?? 'escalated'}`.slice(0, 1024));
  }
  const decidedBy = evaluation.decidedBy;
  trace.event('policy_evaluation_complete', 'policy', {
    latencyMs: evaluation.durationMs,
    metadata: {
      checkpoint,
      outcome: evaluation.outcome,
      policiesEvaluated: evaluation.results.length,
      ...(decidedBy ? { decidedBy: decidedBy.policy.name } : {}),
    },
  });
  if (evaluation.outcome === 'BLOCK') {
    safety.passed = false;
    safety.blockReason = blockReason(evaluation);
  } else safety.passed ??= true;
  return evaluation;
}

/** Replacements made in what went upstream or to the client, for the call's `safety.sanitized`. */
export function countSanitized(call: CallState, replaced: number): void {
  if (replaced === 0) return;
  const safety = (call.safety ??= {});
  safety.sanitized = (safety.sanitized ?? 0) + replaced;
}

/** `policy-name: its reason`, for records and for the blocked client. */
export function blockReason(evaluation: Evaluation): string {
  const by = evaluation.decidedBy;
  return `${by?.policy.name ?? 'policy'}: ${by?.reason ?? 'blocked'}`.slice(0, 1024);
}

/**
 * Applies an evaluation's REDACT verdicts to the texts of a body (in place, through the adapter's
 * slots) and counts what was replaced into the call's safety facts. Returns the count.
 */
export function redactSlots(call: CallState, slots: readonly TextSlot[], evaluation: Evaluation): number {
  if (evaluation.redactions.length === 0) return 0;
  let replaced = 0;
  for (const slot of slots) {
    const redacted = redactText(slot.text, evaluation.redactions);
    if (redacted.replaced === 0) continue;
    slot.set(redacted.text);
    replaced += redacted.replaced;
  }
  countSanitized(call, replaced);
  return replaced;
}

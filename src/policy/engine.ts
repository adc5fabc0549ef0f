import { PolicyError } from './errors.js';
import { stronger } from './outcome.js';
import type { Accounting, CallOutcome, Checkpoint, Outcome, Policy, PolicySubject, TextScanner, Verdict } from './types.js';

/** What one policy decided at one checkpoint, as the audit log records it. */
export interface PolicyResult {
  policy: Policy;
  outcome: Outcome;
  reason?: string;
  findings?: Record<string, number>;
  durationMs: number;
  /** Set when the policy failed (threw or timed out) and was counted as BLOCK. */
  failed?: string;
  verdict: Verdict;
}

export interface Evaluation {
  checkpoint: Checkpoint;
  /** The strongest outcome of all: BLOCK > ESCALATE > REDACT > ALLOW. */
  outcome: Outcome;
  results: PolicyResult[];
  durationMs: number;
  /** The first policy whose outcome is the final one (undefined when everything allowed). */
  decidedBy?: PolicyResult;
  /** Scanners of every REDACT verdict, applied to the texts in turn. */
  redactions: TextScanner[];
  /** The lowest output-token cap a REDACT verdict asked for. */
  clampOutputTokens?: number;
}

export interface EngineOptions {
  /** How long an asynchronous policy may take before it counts as BLOCK. */
  timeoutMs: number;
  /** State that learns from finished calls (the day's spend, for budgets). */
  accounting?: readonly Accounting[];
}

const ms = (from: number): number => Math.round((performance.now() - from) * 1000) / 1000;

/**
 * Runs the configured policies at a checkpoint, in configured order, and combines their verdicts.
 * Every policy runs, even after a BLOCK, so the audit log shows what each rule thought; a policy
 * that throws or times out counts as BLOCK (governance fails closed) and says so.
 */
export class PolicyEngine {
  private readonly byCheckpoint: Record<Checkpoint, Policy[]>;

  constructor(
    readonly policies: readonly Policy[],
    private readonly options: EngineOptions,
  ) {
    this.byCheckpoint = {
      request: policies.filter((p) => p.checkpoints.has('request')),
      response: policies.filter((p) => p.checkpoints.has('response')),
    };
  }

  at(checkpoint: Checkpoint): readonly Policy[] {
    return this.byCheckpoint[checkpoint];
  }

  async evaluate(subject: PolicySubject): Promise<Evaluation> {
    const started = performance.now();
    const policies = this.byCheckpoint[subject.checkpoint];
    const results = await Promise.all(policies.map((policy) => this.run(policy, subject)));
    let outcome: Outcome = 'ALLOW';
    for (const result of results) outcome = stronger(outcome, result.outcome);
    const evaluation: Evaluation = { checkpoint: subject.checkpoint, outcome, results, durationMs: ms(started), redactions: [] };
    const decidedBy = outcome === 'ALLOW' ? undefined : results.find((r) => r.outcome === outcome);
    if (decidedBy) evaluation.decidedBy = decidedBy;
    for (const { outcome: own, verdict } of results) {
      if (own !== 'REDACT') continue;
      if (verdict.redact) evaluation.redactions.push(verdict.redact);
      if (verdict.clampOutputTokens !== undefined) evaluation.clampOutputTokens = Math.min(evaluation.clampOutputTokens ?? Infinity, verdict.clampOutputTokens);
    }
    return evaluation;
  }

  /** Tells stateful policies (budgets) what a finished call cost. */
  observe(call: CallOutcome): void {
    for (const accounting of this.options.accounting ?? []) accounting.observe(call);
  }

  private async run(policy: Policy, subject: PolicySubject): Promise<PolicyResult> {
    const started = performance.now();
    let verdict: Verdict;
    let failed: string | undefined;
    try {
      const answer = policy.evaluate(subject);
      verdict = answer instanceof Promise ? await this.withTimeout(answer) : answer;
    } catch (err) {
      failed =
        err instanceof PolicyTimeout || err instanceof PolicyError
          ? err.message
          : `the policy threw ${(err as Error | undefined)?.name ?? 'a non-error value'}`;
      verdict = { outcome: 'BLOCK', reason: `policy failed, so the request is blocked (fail closed): ${failed}` };
    }
    const result: PolicyResult = { policy, outcome: verdict.outcome, durationMs: ms(started), verdict };
    if (verdict.reason !== undefined) result.reason = verdict.reason;
    if (verdict.findings !== undefined) result.findings = verdict.findings;
    if (failed !== undefined) result.failed = failed;
    return result;
  }

  private withTimeout(answer: Promise<Verdict>): Promise<Verdict> {
    const { timeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PolicyTimeout(`no verdict within gateway.policy_timeout_ms (${timeoutMs} ms)`)), timeoutMs);
    });
    return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
  }
}

class PolicyTimeout extends Error {}

import type { Redactor } from '../capture/pii.js';
import { countInto, describeFindings } from './redact.js';
import type { Checkpoint, Outcome, Policy, PolicySubject, ReviewSettings, TextScanner, Verdict } from './types.js';

export interface TextRuleOptions {
  name: string;
  /** `pii` (the built-in detectors) or `pattern` (the rule's own regular expressions). */
  type: 'pii' | 'pattern';
  checkpoints: ReadonlySet<Checkpoint>;
  action: Exclude<Outcome, 'ALLOW'>;
  /** Finds what the rule objects to; its stand-ins are what REDACT puts in place. */
  redactor: Redactor;
  review?: ReviewSettings;
}

/**
 * A rule over the texts of a request or an answer: PII detectors or custom patterns, acting by
 * BLOCK, ESCALATE or REDACT when anything matches. Both kinds run on the capture layer's
 * redactor, so custom patterns get its guard against catastrophic backtracking.
 */
export class TextRule implements Policy {
  readonly name: string;
  readonly type: 'pii' | 'pattern';
  readonly checkpoints: ReadonlySet<Checkpoint>;
  readonly action: Exclude<Outcome, 'ALLOW'>;
  readonly review?: ReviewSettings;
  readonly scanner: TextScanner;

  constructor(options: TextRuleOptions) {
    this.name = options.name;
    this.type = options.type;
    this.checkpoints = options.checkpoints;
    this.action = options.action;
    if (options.review) this.review = options.review;
    const { redactor } = options;
    this.scanner = {
      scan: (text) => redactor.find(text).map(({ start, end, detector, replacement }) => ({ start, end, label: detector, replacement })),
    };
  }

  evaluate(subject: PolicySubject): Verdict {
    const counts: Record<string, number> = {};
    for (const text of subject.texts) countInto(counts, this.scanner.scan(text));
    if (Object.keys(counts).length === 0) return { outcome: 'ALLOW' };
    const what = this.type === 'pii' ? 'personal data or secrets' : 'text matching its patterns';
    const verdict: Verdict = {
      outcome: this.action,
      reason: `${what} in the ${subject.checkpoint === 'request' ? 'prompt' : 'answer'}: ${describeFindings(counts)}`,
      findings: counts,
    };
    if (this.action === 'REDACT') verdict.redact = this.scanner;
    return verdict;
  }
}

import type { Checkpoint, Policy, PolicySubject, Verdict } from './types.js';

const REQUEST_ONLY: ReadonlySet<Checkpoint> = new Set(['request']);

/**
 * A cap on the tokens one request may ask the model to generate. `clamp` lowers a larger cap to
 * the maximum (REDACT); `block` refuses a request asking for more. Either way a request that sets
 * no cap at all gets the maximum, since leaving it unset means the model's own, much larger limit.
 */
export class MaxTokens implements Policy {
  readonly type = 'max_tokens';
  readonly checkpoints = REQUEST_ONLY;

  constructor(
    readonly name: string,
    private readonly max: number,
    private readonly onExcess: 'clamp' | 'block',
  ) {}

  evaluate(subject: PolicySubject): Verdict {
    // Embeddings generate nothing; there is no cap to check.
    if (subject.endpoint === 'embeddings') return { outcome: 'ALLOW' };
    const asked = subject.maxOutputTokens;
    if (asked !== undefined && asked <= this.max) return { outcome: 'ALLOW' };
    if (asked !== undefined && this.onExcess === 'block')
      return { outcome: 'BLOCK', reason: `the request asks for up to ${asked} output tokens; the limit is ${this.max}` };
    const reason =
      asked === undefined ? `the request sets no output-token cap; capped at ${this.max}` : `the request's output-token cap ${asked} is lowered to ${this.max}`;
    return { outcome: 'REDACT', reason, clampOutputTokens: this.max };
  }
}

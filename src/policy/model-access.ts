import { globPattern } from './model-glob.js';
import type { Checkpoint, Policy, PolicySubject, Verdict } from './types.js';

const REQUEST_ONLY: ReadonlySet<Checkpoint> = new Set(['request']);

/**
 * Which models may be called: a model on `deny` is blocked; with an `allow` list, so is every
 * model not on it. Globs with `*`, matched in any case, as in routing.
 */
export class ModelAccess implements Policy {
  readonly type = 'models';
  readonly checkpoints = REQUEST_ONLY;
  private readonly allow: RegExp[];
  private readonly deny: RegExp[];

  constructor(
    readonly name: string,
    lists: { allow: readonly string[]; deny: readonly string[] },
  ) {
    this.allow = lists.allow.map(globPattern);
    this.deny = lists.deny.map(globPattern);
  }

  evaluate(subject: PolicySubject): Verdict {
    const model = subject.model ?? '';
    if (this.deny.some((p) => p.test(model))) return { outcome: 'BLOCK', reason: `model "${model}" is on the deny list` };
    if (this.allow.length > 0 && !this.allow.some((p) => p.test(model))) return { outcome: 'BLOCK', reason: `model "${model}" is not on the allow list` };
    return { outcome: 'ALLOW' };
  }
}

import { createRedactor } from '../../capture/pii.js';
import type { PolicyConfig } from '../../config/schema-policies.js';
import { Budget } from '../../policy/budget.js';
import { DailySpend } from '../../policy/daily-spend.js';
import { PolicyEngine } from '../../policy/engine.js';
import { MaxTokens } from '../../policy/max-tokens.js';
import { ModelAccess } from '../../policy/model-access.js';
import { RateLimit } from '../../policy/rate-limit.js';
import { TextRule } from '../../policy/text-rule.js';
import type { Checkpoint, Policy } from '../../policy/types.js';

export interface BuiltPolicies {
  engine: PolicyEngine;
  /** The day's spend the budget policies read; load it from the ledger before serving. */
  spend?: DailySpend;
}

const ACTIONS = { block: 'BLOCK', escalate: 'ESCALATE', redact: 'REDACT' } as const;

/** An escalating rule without its own `review` block holds the request for up to five minutes. */
const DEFAULT_REVIEW = { mode: 'hold', timeoutMs: 300_000 } as const;

/**
 * Policies from configuration (`gateway.policies`). Here, beside the gateway's other governance,
 * rather than in src/policy/: the configuration schema describes policies, so config sits above
 * policy, and building from a configuration is the job of the layer above both.
 *
 * The configured policies, in configured order, then any given in code (`extra`), as one
 * engine. Every budget policy shares one `DailySpend`.
 */
export function buildPolicies(configs: readonly PolicyConfig[], options: { timeoutMs: number; extra?: readonly Policy[] }): BuiltPolicies {
  let spend: DailySpend | undefined;
  const policies: Policy[] = configs.map((config) => {
    switch (config.type) {
      case 'models':
        return new ModelAccess(config.name, config);
      case 'max_tokens':
        return new MaxTokens(config.name, config.max, config.action);
      case 'rate_limit':
        return new RateLimit(config.name, config.requestsPerMinute, config.burst ?? config.requestsPerMinute);
      case 'budget':
        return new Budget(config.name, config, (spend ??= new DailySpend()));
      case 'pattern':
      case 'pii': {
        const redactor =
          config.type === 'pii'
            ? createRedactor({ detectors: config.detectors })
            : createRedactor({
                detectors: [],
                custom: config.patterns.map((p) => ({ name: p.name, pattern: p.regex, ...(p.flags === undefined ? {} : { flags: p.flags }) })),
              });
        return new TextRule({
          name: config.name,
          type: config.type,
          checkpoints: new Set<Checkpoint>(config.checkpoints),
          action: ACTIONS[config.action],
          redactor,
          ...(config.action === 'escalate' ? { review: config.review ?? DEFAULT_REVIEW } : {}),
        });
      }
    }
  });
  policies.push(...(options.extra ?? []));
  const engine = new PolicyEngine(policies, { timeoutMs: options.timeoutMs, ...(spend ? { accounting: [spend] } : {}) });
  return spend ? { engine, spend } : { engine };
}

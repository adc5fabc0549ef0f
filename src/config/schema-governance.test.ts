import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfig } from './load.js';

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, { env, cwd: '/work', baseDir: '/etc/ledger' });

function messages(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const REVIEWER = "review: { reviewers: [{ name: alice, sha256: '" + 'b'.repeat(64) + "' }] }";

describe('gateway policies configuration', () => {
  it('reads each policy type with its defaults, in order', () => {
    const { gateway } = parse(`
gateway:
  ${REVIEWER}
  policies:
    - { name: approved-models, type: models, allow: ["gpt-4o*"] }
    - { name: cap, type: max_tokens, max: 4096 }
    - { name: codenames, type: pattern, patterns: [{ name: falcon, regex: "project\\\\s+falcon", flags: i }], action: escalate }
    - { name: pii, type: pii, detectors: [email, card], checkpoints: [request] }
    - { name: spend, type: budget, per_user_usd: 25, per_team_usd: 500 }
    - { name: per-key, type: rate_limit, requests_per_minute: 600 }
`);
    expect(gateway.policies).toEqual([
      { type: 'models', name: 'approved-models', allow: ['gpt-4o*'], deny: [] },
      { type: 'max_tokens', name: 'cap', max: 4096, action: 'clamp' },
      {
        type: 'pattern',
        name: 'codenames',
        patterns: [{ name: 'falcon', regex: 'project\\s+falcon', flags: 'i' }],
        checkpoints: ['request', 'response'],
        action: 'escalate',
      },
      { type: 'pii', name: 'pii', detectors: ['email', 'card'], checkpoints: ['request'], action: 'redact' },
      { type: 'budget', name: 'spend', perUserUsd: 25, perTeamUsd: 500 },
      { type: 'rate_limit', name: 'per-key', requestsPerMinute: 600 },
    ]);
    expect(gateway.policyTimeoutMs).toBe(1000);
    expect(gateway.streamWindowChars).toBe(256);
  });

  it('names an unknown policy type and the nearest one', () => {
    expect(messages('gateway: { policies: [{ name: a, type: modells, allow: [x] }] }')).toContain(
      "gateway.policies[0].type must be one of 'models', 'max_tokens', 'pattern', 'pii', 'budget', 'rate_limit'; found \"modells\" — did you mean 'models'?",
    );
  });

  it("catches a typo in a policy's key against that policy type's keys", () => {
    expect(messages('gateway: { policies: [{ name: a, type: rate_limit, reqests_per_minute: 5 }] }')).toContain(
      "Unknown key 'gateway.policies[0].reqests_per_minute' — did you mean 'requests_per_minute'?",
    );
  });

  it('refuses a pattern that can backtrack catastrophically, at load', () => {
    expect(messages('gateway: { policies: [{ name: a, type: pattern, patterns: [{ name: p, regex: "(a+)+" }] }] }')).toMatch(
      /gateway\.policies\[0\]\.patterns\[0\]\.regex is refused: .*catastrophic backtracking/,
    );
  });

  it('refuses duplicate names, an empty budget, an empty model policy', () => {
    const text = messages(`
gateway:
  policies:
    - { name: a, type: budget }
    - { name: a, type: models }
`);
    expect(text).toContain("gateway.policies[1].name repeats an earlier policy's name");
    expect(text).toContain('gateway.policies[0] needs per_user_usd, per_team_usd or both');
    expect(text).toContain('gateway.policies[1] needs an allow list, a deny list or both');
  });

  it('refuses escalation with nobody to decide, and review settings on a policy that does not escalate', () => {
    expect(messages('gateway: { policies: [{ name: a, type: pii, action: escalate }] }')).toContain(
      'gateway.policies[0].action is escalate, but gateway.review.reviewers is empty',
    );
    expect(messages(`gateway: { ${REVIEWER}, policies: [{ name: a, type: pii, action: block, review: { mode: hold } }] }`)).toContain(
      'gateway.policies[0].review applies only to action: escalate',
    );
  });

  it('refuses async review of answers, and async review when capture keeps no digest of prompts', () => {
    expect(messages(`gateway: { ${REVIEWER}, policies: [{ name: a, type: pii, action: escalate, review: { mode: async } }] }`)).toContain(
      'gateway.policies[0].review.mode is async',
    );
    expect(
      messages(
        `capture: { prompts: none }\ngateway: { ${REVIEWER}, policies: [{ name: a, type: pii, action: escalate, checkpoints: [request], review: { mode: async } }] }`,
      ),
    ).toContain('capture.prompts: none keeps no digest');
  });

  it('refuses a reviewer with neither or both of sha256 and env, and duplicate reviewer names', () => {
    expect(messages("gateway: { review: { reviewers: [{ name: a }, { name: a, env: X, sha256: '" + 'c'.repeat(64) + "' }] } }")).toMatch(
      /reviewers\[0\] needs exactly one of sha256[\s\S]*reviewers\[1\] needs exactly one/,
    );
    expect(messages('gateway: { review: { reviewers: [{ name: a, env: X }, { name: a, env: Y }] } }')).toContain(
      'gateway.review.reviewers[1].name repeats an earlier reviewer',
    );
  });
});

describe('gateway routing configuration', () => {
  const providers = "providers: { openai: { base_url: 'http://a' }, azure: { format: openai, base_url: 'http://b' }, anthropic: { base_url: 'http://c' } }";

  it('reads a route with providers in order, model renames and its own retry settings, and the gateway-wide retry', () => {
    const { gateway } = parse(`
gateway:
  ${providers}
  retry: { max_retries: 2, initial_backoff_ms: 100 }
  models:
    - { match: "gpt-4o", providers: [openai, { provider: azure, model: gpt-4o-2024-08-06 }], retry: { max_retries: 1 } }
    - { match: "claude-*", provider: anthropic }
`);
    expect(gateway.retry).toEqual({ maxRetries: 2, initialBackoffMs: 100 });
    expect(gateway.models).toEqual([
      { match: 'gpt-4o', targets: [{ provider: 'openai' }, { provider: 'azure', model: 'gpt-4o-2024-08-06' }], retry: { maxRetries: 1 } },
      { match: 'claude-*', targets: [{ provider: 'anthropic' }] },
    ]);
  });

  it('refuses a route naming an unknown provider, one with both or neither of provider and providers, and one mixing formats', () => {
    expect(messages(`gateway: { ${providers}, models: [{ match: x, providers: [openai, azur] }] }`)).toContain(
      'gateway.models[0].providers[1] names provider "azur", which is not configured',
    );
    expect(messages(`gateway: { ${providers}, models: [{ match: x, provider: openai, providers: [azure] }] }`)).toContain(
      'gateway.models[0] needs exactly one of provider (one name) or providers',
    );
    expect(messages(`gateway: { ${providers}, models: [{ match: x, providers: [openai, anthropic] }] }`)).toContain(
      'gateway.models[0].providers mixes providers of the openai and anthropic formats',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { createRedactor } from '../capture/pii.js';
import { Budget } from './budget.js';
import { DailySpend } from './daily-spend.js';
import { MaxTokens } from './max-tokens.js';
import { ModelAccess } from './model-access.js';
import { RateLimit } from './rate-limit.js';
import { redactText } from './redact.js';
import { TextRule } from './text-rule.js';
import type { PolicySubject } from './types.js';

const request = (extra: Partial<PolicySubject> = {}): PolicySubject => ({
  checkpoint: 'request',
  endpoint: 'chat.completions',
  model: 'gpt-4o',
  texts: [],
  ...extra,
});

describe('ModelAccess', () => {
  const policy = new ModelAccess('approved-models', { allow: ['gpt-4o*', 'claude-*'], deny: ['*-preview'] });

  it('allows a model on the allow list, in any case', () => {
    expect(policy.evaluate(request({ model: 'GPT-4o-mini' })).outcome).toBe('ALLOW');
  });

  it('blocks a model not on the allow list, and one on the deny list even when allowed', () => {
    expect(policy.evaluate(request({ model: 'o3' }))).toEqual({ outcome: 'BLOCK', reason: 'model "o3" is not on the allow list' });
    expect(policy.evaluate(request({ model: 'claude-4-preview' }))).toEqual({ outcome: 'BLOCK', reason: 'model "claude-4-preview" is on the deny list' });
  });

  it('with only a deny list, allows everything else', () => {
    expect(new ModelAccess('no-previews', { allow: [], deny: ['*-preview'] }).evaluate(request({ model: 'o3' })).outcome).toBe('ALLOW');
  });
});

describe('MaxTokens', () => {
  it('clamps a larger cap, and sets one where the request had none', () => {
    const policy = new MaxTokens('cap', 1000, 'clamp');
    expect(policy.evaluate(request({ maxOutputTokens: 800 })).outcome).toBe('ALLOW');
    expect(policy.evaluate(request({ maxOutputTokens: 4000 }))).toMatchObject({
      outcome: 'REDACT',
      clampOutputTokens: 1000,
      reason: "the request's output-token cap 4000 is lowered to 1000",
    });
    expect(policy.evaluate(request())).toMatchObject({ outcome: 'REDACT', clampOutputTokens: 1000 });
  });

  it('in block mode refuses a request asking for more, and still caps one that asks for nothing', () => {
    const policy = new MaxTokens('cap', 1000, 'block');
    expect(policy.evaluate(request({ maxOutputTokens: 1001 }))).toEqual({
      outcome: 'BLOCK',
      reason: 'the request asks for up to 1001 output tokens; the limit is 1000',
    });
    expect(policy.evaluate(request())).toMatchObject({ outcome: 'REDACT', clampOutputTokens: 1000 });
  });

  it('leaves embeddings alone: they generate no tokens', () => {
    expect(new MaxTokens('cap', 10, 'block').evaluate(request({ endpoint: 'embeddings' })).outcome).toBe('ALLOW');
  });
});

describe('TextRule', () => {
  const pii = new TextRule({
    name: 'pii',
    type: 'pii',
    checkpoints: new Set(['request', 'response']),
    action: 'REDACT',
    redactor: createRedactor({ detectors: ['email', 'card'] }),
  });

  it('finds PII in any text, counting per detector and never quoting the text', () => {
    const verdict = pii.evaluate(request({ texts: ['mail bob@example.com', 'card 4111 1111 1111 1111 or alice@example.org'] }));
    expect(verdict).toMatchObject({ outcome: 'REDACT', findings: { email: 2, card: 1 } });
    expect(verdict.reason).toBe('personal data or secrets in the prompt: email ×2, card ×1');
    expect(verdict.reason).not.toContain('example');
    expect(redactText('mail bob@example.com', [verdict.redact!]).text).toBe('mail [REDACTED:email]');
  });

  it('allows text with nothing to find', () => {
    expect(pii.evaluate(request({ texts: ['nothing here'] }))).toEqual({ outcome: 'ALLOW' });
  });

  it('acts by its own action on custom patterns', () => {
    const rule = new TextRule({
      name: 'codenames',
      type: 'pattern',
      checkpoints: new Set(['response']),
      action: 'BLOCK',
      redactor: createRedactor({ detectors: [], custom: [{ name: 'falcon', pattern: 'project\\s+falcon', flags: 'i' }] }),
    });
    expect(rule.evaluate({ ...request({ texts: ['About Project  Falcon: ...'] }), checkpoint: 'response' })).toMatchObject({
      outcome: 'BLOCK',
      reason: 'text matching its patterns in the answer: falcon ×1',
    });
    expect(rule.scanner.scan('project falcon')).toEqual([{ start: 0, end: 14, label: 'falcon', replacement: '[REDACTED:falcon]' }]);
  });
});

describe('RateLimit', () => {
  it('lets a key send its burst, then blocks with 429 and says when one more request is allowed, refilling at the per-minute rate', () => {
    let now = 0;
    const policy = new RateLimit('per-key', 60, 2, () => now);
    const key = request({ keyHash: 'aa' });
    expect(policy.evaluate(key).outcome).toBe('ALLOW');
    expect(policy.evaluate(key).outcome).toBe('ALLOW');
    expect(policy.evaluate(key)).toEqual({ outcome: 'BLOCK', reason: 'more than 60 requests per minute with this key', httpStatus: 429, retryAfterMs: 1000 });
    now = 500;
    expect(policy.evaluate(key)).toMatchObject({ outcome: 'BLOCK', retryAfterMs: 500 });
    now = 1000;
    expect(policy.evaluate(key).outcome).toBe('ALLOW');
  });

  it('counts each key on its own', () => {
    const policy = new RateLimit('per-key', 60, 1, () => 0);
    expect(policy.evaluate(request({ keyHash: 'aa' })).outcome).toBe('ALLOW');
    expect(policy.evaluate(request({ keyHash: 'bb' })).outcome).toBe('ALLOW');
    expect(policy.evaluate(request({ keyHash: 'aa' })).outcome).toBe('BLOCK');
  });
});

describe('Budget and DailySpend', () => {
  it("blocks a user, then a team, once the UTC day's spend reaches the budget, and starts again the next day", () => {
    let now = new Date('2026-12-04T23:59:00.000Z');
    const spend = new DailySpend(() => now);
    const budget = new Budget('spend', { perUserUsd: 1, perTeamUsd: 5 }, spend);
    const alice = request({ user: 'alice', team: 'risk' });
    expect(budget.evaluate(alice).outcome).toBe('ALLOW');
    spend.observe({ user: 'alice', team: 'risk', costUsd: 0.6 });
    expect(budget.evaluate(alice).outcome).toBe('ALLOW');
    spend.observe({ user: 'alice', team: 'risk', costUsd: 0.4 });
    expect(budget.evaluate(alice)).toEqual({ outcome: 'BLOCK', reason: 'user "alice" has spent $1.00 today (UTC 2026-12-04); the daily budget is $1.00' });
    spend.observe({ user: 'bob', team: 'risk', costUsd: 4 });
    expect(budget.evaluate(request({ user: 'carol', team: 'risk' }))).toMatchObject({
      outcome: 'BLOCK',
      reason: expect.stringContaining('team "risk" has spent $5.00'),
    });
    now = new Date('2026-12-05T00:00:01.000Z');
    expect(budget.evaluate(alice).outcome).toBe('ALLOW');
  });

  it("loads the day's spend from the ledger's calls of that day only", async () => {
    const spend = new DailySpend(() => new Date('2026-12-04T12:00:00.000Z'));
    const call = (ts: string, user: string, costUsd: number) => ({
      index: 0,
      envelope: { v: 1, id: ts, ts, kind: 'llm.call', traceId: 't', requestId: 'r', user, tenant: 'risk', costUsd } as const,
    });
    const filters: unknown[] = [];
    await spend.load({
      async *records(filter) {
        filters.push(filter);
        yield [call('2026-12-04T01:00:00.000Z', 'alice', 0.25), call('2026-12-04T02:00:00.000Z', 'alice', 0.5)];
      },
    });
    expect(filters).toEqual([{ kind: 'llm.call', since: '2026-12-04T00:00:00.000Z' }]);
    expect(spend.ofUser('alice')).toBe(0.75);
    expect(spend.ofTeam('risk')).toBe(0.75);
  });
});

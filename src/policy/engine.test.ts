import { describe, expect, it } from 'vitest';
import { PolicyEngine } from './engine.js';
import { PolicyError } from './errors.js';
import type { Checkpoint, Outcome, Policy, PolicySubject, Verdict } from './types.js';

const subject: PolicySubject = { checkpoint: 'request', endpoint: 'chat.completions', model: 'gpt-4o', texts: ['hello'] };
const both = new Set<Checkpoint>(['request', 'response']);

function fixed(name: string, outcome: Outcome, extra: Partial<Verdict> = {}): Policy {
  return { name, type: 'test', checkpoints: both, evaluate: () => ({ outcome, reason: `${name} says ${outcome}`, ...extra }) };
}

describe('PolicyEngine', () => {
  it('allows when every policy allows, and names no deciding policy', async () => {
    const evaluation = await new PolicyEngine([fixed('a', 'ALLOW'), fixed('b', 'ALLOW')], { timeoutMs: 100 }).evaluate(subject);
    expect(evaluation.outcome).toBe('ALLOW');
    expect(evaluation.decidedBy).toBeUndefined();
    expect(evaluation.results.map((r) => r.policy.name)).toEqual(['a', 'b']);
  });

  it.each([
    [['ALLOW', 'REDACT'], 'REDACT'],
    [['REDACT', 'ESCALATE', 'ALLOW'], 'ESCALATE'],
    [['ESCALATE', 'BLOCK', 'REDACT'], 'BLOCK'],
    [['BLOCK', 'ESCALATE'], 'BLOCK'],
  ] as const)('combines %j by precedence BLOCK > ESCALATE > REDACT > ALLOW into %s', async (outcomes, expected) => {
    const engine = new PolicyEngine(
      outcomes.map((outcome, i) => fixed(`p${i}`, outcome)),
      { timeoutMs: 100 },
    );
    const evaluation = await engine.evaluate(subject);
    expect(evaluation.outcome).toBe(expected);
    expect(evaluation.decidedBy?.outcome).toBe(expected);
    expect(evaluation.decidedBy?.policy.name).toBe(`p${(outcomes as readonly string[]).indexOf(expected)}`);
  });

  it('runs every policy even after a BLOCK, so the record shows what each one thought', async () => {
    let ran = false;
    const later: Policy = { name: 'later', type: 'test', checkpoints: both, evaluate: () => ((ran = true), { outcome: 'ALLOW' }) };
    await new PolicyEngine([fixed('first', 'BLOCK'), later], { timeoutMs: 100 }).evaluate(subject);
    expect(ran).toBe(true);
  });

  it('counts a policy that throws as BLOCK, naming the error type but not its message (which could quote the prompt)', async () => {
    const throwing: Policy = {
      name: 'buggy',
      type: 'custom',
      checkpoints: both,
      evaluate: () => {
        throw new TypeError('cannot read the prompt "my secret plan"');
      },
    };
    const evaluation = await new PolicyEngine([fixed('ok', 'ALLOW'), throwing], { timeoutMs: 100 }).evaluate(subject);
    expect(evaluation.outcome).toBe('BLOCK');
    expect(evaluation.decidedBy?.policy.name).toBe('buggy');
    expect(evaluation.decidedBy?.failed).toBe('the policy threw TypeError');
    expect(JSON.stringify(evaluation.results.map(({ policy: _policy, ...rest }) => rest))).not.toContain('secret plan');
  });

  it("keeps a built-in policy's own failure message, which never holds content", async () => {
    const failing: Policy = {
      name: 'budget',
      type: 'budget',
      checkpoints: both,
      evaluate: () => Promise.reject(new PolicyError('the spend could not be read')),
    };
    const evaluation = await new PolicyEngine([failing], { timeoutMs: 100 }).evaluate(subject);
    expect(evaluation.decidedBy?.failed).toBe('the spend could not be read');
  });

  it('counts an asynchronous policy that does not answer in time as BLOCK', async () => {
    const slow: Policy = { name: 'slow', type: 'custom', checkpoints: both, evaluate: () => new Promise<Verdict>(() => undefined) };
    const evaluation = await new PolicyEngine([slow], { timeoutMs: 20 }).evaluate(subject);
    expect(evaluation).toMatchObject({
      outcome: 'BLOCK',
      decidedBy: { failed: expect.stringContaining('no verdict within gateway.policy_timeout_ms (20 ms)') },
    });
  });

  it('runs only the policies of the checkpoint asked', async () => {
    const requestOnly: Policy = { name: 'req', type: 'test', checkpoints: new Set(['request']), evaluate: () => ({ outcome: 'BLOCK' }) };
    const engine = new PolicyEngine([requestOnly, fixed('any', 'ALLOW')], { timeoutMs: 100 });
    expect(engine.at('response').map((p) => p.name)).toEqual(['any']);
    expect((await engine.evaluate({ ...subject, checkpoint: 'response' })).outcome).toBe('ALLOW');
  });

  it('gathers every REDACT verdict: all scanners, and the lowest output cap', async () => {
    const scanner = { scan: () => [] };
    const engine = new PolicyEngine(
      [fixed('a', 'REDACT', { redact: scanner }), fixed('b', 'REDACT', { clampOutputTokens: 500 }), fixed('c', 'REDACT', { clampOutputTokens: 200 })],
      { timeoutMs: 100 },
    );
    const evaluation = await engine.evaluate(subject);
    expect(evaluation.redactions).toEqual([scanner]);
    expect(evaluation.clampOutputTokens).toBe(200);
  });

  it('tells what a finished call cost to whatever keeps account', () => {
    const seen: unknown[] = [];
    const engine = new PolicyEngine([], { timeoutMs: 100, accounting: [{ observe: (call) => seen.push(call) }] });
    engine.observe({ user: 'alice', costUsd: 0.5 });
    expect(seen).toEqual([{ user: 'alice', costUsd: 0.5 }]);
  });
});

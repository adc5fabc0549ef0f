import { createRedactor } from '../../capture/pii.js';
import { describe, expect, it } from 'vitest';
import { TextRule } from '../../policy/text-rule.js';
import type { Outcome } from '../../policy/types.js';
import { openAIChatAdapter } from '../../providers/openai-chat.js';
import { openAIResponsesAdapter } from '../../providers/openai-responses.js';
import { responsesReply } from '../../providers/simulated/fake-openai-responses.js';
import { FAKE_ANSWER } from '../../providers/simulated/fake-scenarios.js';
import { StreamGuard, type GuardRule } from './stream-guard.js';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, logprobs: { content: [{ token: content }] } }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';

function rule(action: Exclude<Outcome, 'ALLOW'>, custom?: { name: string; pattern: string }): GuardRule {
  const redactor = custom ? createRedactor({ detectors: [], custom: [custom] }) : createRedactor({ detectors: ['email'] });
  const policy = new TextRule({ name: custom?.name ?? 'pii', type: custom ? 'pattern' : 'pii', checkpoints: new Set(['response']), action, redactor });
  return { policy, action, scan: (text) => policy.scanner.scan(text) };
}

function guarded(rules: GuardRule[], windowChars: number, escalate: (rule: GuardRule) => Promise<boolean> = () => Promise.resolve(true)) {
  const written: string[] = [];
  const blocked: string[][] = [];
  const guard = new StreamGuard(openAIChatAdapter, rules, windowChars, {
    write: (text) => written.push(text),
    block: (_rule, labels) => blocked.push(labels),
    escalate: (r) => escalate(r),
  });
  const texts = () =>
    written.flatMap((event) =>
      event === DONE ? [] : [(JSON.parse(event.slice(6)) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content],
    );
  return { guard, written, blocked, texts };
}

describe('StreamGuard', () => {
  it('releases text older than the window at once, untouched events byte for byte, and the rest at the end', async () => {
    const { guard, written } = guarded([rule('REDACT')], 8);
    const frames = ['Hello the', 're, this ', 'is a long', ' answer.'].map(chunk);
    guard.push(frames[0]! + frames[1]!);
    expect(written).toEqual([frames[0]]);
    guard.push(frames[2]!);
    expect(written).toEqual(frames.slice(0, 2));
    guard.push(frames[3]! + DONE);
    expect(await guard.end()).toBe('released');
    expect(written.join('')).toBe(frames.join('') + DONE);
  });

  it('replaces a match split over several events in the event where it begins, and drops its token log-probabilities', async () => {
    const { guard, texts, written } = guarded([rule('REDACT')], 64);
    for (const piece of ['Write to jane.d', 'oe@corp.exa', 'mple today', '.']) guard.push(chunk(piece));
    await guard.end();
    expect(texts()).toEqual(['Write to [REDACTED:email]', '', ' today', '.']);
    expect(written[0]).toContain('"logprobs":null');
    expect(written.join('')).not.toMatch(/jane|corp\.example/);
    expect(guard.replaced).toBe(1);
  });

  it('never releases part of a match, even when the window has passed its start', async () => {
    const { guard, texts } = guarded([rule('REDACT')], 4);
    guard.push(chunk('mail jane.doe@'));
    guard.push(chunk('corp.example'));
    guard.push(chunk(' and more text after it'));
    // The address is whole once its domain arrived; it is released replaced, never in part.
    expect(texts().join('')).toBe('mail [REDACTED:email]');
    await guard.end();
    expect(texts().join('')).toBe('mail [REDACTED:email] and more text after it');
  });

  it('stops at a blocking match: nothing from the held window goes out, and later data is ignored', async () => {
    const { guard, written, blocked } = guarded([rule('BLOCK', { name: 'codename', pattern: 'falcon' })], 32);
    guard.push(chunk('The project is called '));
    guard.push(chunk('Falc'));
    guard.push(chunk('on, and'));
    guard.push(chunk('falcon again'));
    expect(blocked).toEqual([['codename']]);
    expect(guard.isStopped).toBe(true);
    expect(written).toEqual([]);
    expect(await guard.end()).toBe('stopped');
  });

  it('holds everything while an escalation is reviewed, then releases it all on approval', async () => {
    let approve: (approved: boolean) => void = () => undefined;
    const { guard, texts } = guarded([rule('ESCALATE', { name: 'codename', pattern: 'falcon' })], 4, () => new Promise((resolve) => (approve = resolve)));
    guard.push(chunk('About falcon: '));
    guard.push(chunk('it flies, and falcon '));
    guard.push(chunk('is fast.') + DONE);
    const ending = guard.end();
    expect(texts()).toEqual([]);
    approve(true);
    expect(await ending).toBe('released');
    // Once approved, the same rule no longer stops the stream.
    expect(texts().join('')).toBe('About falcon: it flies, and falcon is fast.');
  });

  it('stops when the escalation is rejected', async () => {
    const { guard, written } = guarded([rule('ESCALATE', { name: 'codename', pattern: 'falcon' })], 4, () => Promise.resolve(false));
    guard.push(chunk('falcon'));
    expect(await guard.end()).toBe('stopped');
    expect(written).toEqual([]);
  });

  it("gives a Responses stream's closing events the text the client was sent, so the original never leaks", async () => {
    const reply = responsesReply('gpt-4.1', false, true, 'answer');
    if (reply.kind !== 'sse') throw new Error('expected a stream');
    const written: string[] = [];
    const lWord = rule('REDACT', { name: 'l-word', pattern: 'ledger' });
    const guard = new StreamGuard(openAIResponsesAdapter, [lWord], 16, {
      write: (text) => written.push(text),
      block: () => undefined,
      escalate: () => Promise.resolve(true),
    });
    for (const frame of reply.frames) guard.push(frame);
    await guard.end();
    const all = written.join('');
    expect(FAKE_ANSWER).toContain('ledger');
    expect(all).not.toContain('ledger');
    const done = written.map((event) => /data: (.*)\n/.exec(event)?.[1]).map((data) => JSON.parse(data ?? 'null') as { type?: string; text?: string } | null);
    expect(done.find((event) => event?.type === 'response.output_text.done')?.text).toBe(FAKE_ANSWER.replace('ledger', '[REDACTED:l-word]'));
  });
});

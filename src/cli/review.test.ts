import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../gateway/test-support/harness.js';
import { runAsync } from './test-support/cli.js';

// `llm-ledger review` as reviewers run it: the built binary, talking to a running gateway that
// holds an escalated request.

const TOKEN = 'rita-reviewer-token-0123456789abcdef';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function gatewayWithEscalation(): Promise<Harness> {
  h = await startHarness({
    env: { RITA_TOKEN: TOKEN },
    gateway: {
      policies: [
        {
          name: 'codenames',
          type: 'pattern',
          patterns: [{ name: 'codename', regex: 'falcon', flags: 'i' }],
          checkpoints: ['request'],
          action: 'escalate',
          review: { mode: 'hold', timeout_ms: 20_000 },
        },
      ],
      review: { reviewers: [{ name: 'rita', env: 'RITA_TOKEN' }], poll_interval_ms: 50 },
    },
  });
  // The CLI finds the gateway from the configuration's port.
  writeFileSync(join(h.dir, 'llm-ledger.yaml'), `gateway:\n  port: ${h.gateway.port}\n`);
  return h;
}

const review = (g: Harness, args: string[], env: NodeJS.ProcessEnv = { LLM_LEDGER_REVIEWER_TOKEN: TOKEN }) => runAsync(g.dir, ['review', ...args], { env });

async function pendingId(g: Harness): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const { stdout } = await review(g, ['list', '--json']);
    const list = JSON.parse(stdout) as { id: string }[];
    if (list.length > 0) return list[0]!.id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no pending review');
}

describe('llm-ledger review', () => {
  it('lists and shows a pending review, approves it (the held request then goes on), and refuses a second decision', async () => {
    const g = await gatewayWithEscalation();
    const answer = g.openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'About Project Falcon?' }] });
    const id = await pendingId(g);
    const list = await review(g, ['list']);
    expect(list).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(
          `^ID +CREATED +STATUS +POLICY +AT +USER +MODEL +REASON\\n${id} .* pending +codenames +request +- +gpt-4o +text matching its patterns in the prompt: codename ×1\\n$`,
        ),
      ),
    });
    const shown = await review(g, ['show', id]);
    expect(shown.stdout).toContain(`review ${id}: pending`);
    expect(shown.stdout).toContain('escalated by codenames at the request checkpoint (hold mode)');
    expect(shown.stdout).not.toMatch(/falcon/i);
    expect(await review(g, ['approve', id, '--reason', 'public project'])).toMatchObject({ code: 0, stdout: `review ${id} approved by rita\n` });
    await expect(answer).resolves.toBeDefined();
    expect(await review(g, ['reject', id, '--reason', 'too late'])).toMatchObject({ code: 2, stderr: expect.stringContaining('already approved by rita') });
    expect(JSON.parse((await review(g, ['list', '--status', 'approved', '--json'])).stdout)).toMatchObject([
      { id, decision: { reviewer: 'rita', reason: 'public project' } },
    ]);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('rejects, and the held request is refused', async () => {
    const g = await gatewayWithEscalation();
    const answer = g.openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'About Project Falcon?' }] })
      .catch((caught: unknown) => caught as { status: number });
    const id = await pendingId(g);
    expect((await review(g, ['reject', id, '--reason', 'confidential'])).code).toBe(0);
    expect((await answer) as { status: number }).toMatchObject({ status: 403 });
  });

  it('needs a reviewer token the gateway knows, a reason, a reachable gateway and an existing review', async () => {
    const g = await gatewayWithEscalation();
    expect(await review(g, ['list'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining('set LLM_LEDGER_REVIEWER_TOKEN to your reviewer token') });
    expect(await review(g, ['list'], { LLM_LEDGER_REVIEWER_TOKEN: 'wrong' })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('is not a reviewer token this gateway knows'),
    });
    expect((await review(g, ['approve', '0199d0c4-0000-7000-8000-000000000000'])).code).toBe(2);
    expect(await review(g, ['approve', '0199d0c4-0000-7000-8000-000000000000', '--reason', 'x'])).toMatchObject({
      code: 4,
      stderr: expect.stringContaining('no review with id'),
    });
    expect(await review(g, ['list', '--gateway', 'http://127.0.0.1:1'])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('cannot reach the gateway at http://127.0.0.1:1'),
    });
    expect((await review(g, ['list'])).stdout).toBe('no pending reviews\n');
  });
});

import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Policy } from '../policy/types.js';
import { FAKE_ANSWER } from '../providers/simulated/fake-scenarios.js';
import { filesContaining, startHarness, type Harness, type HarnessOptions } from './test-support/harness.js';

// The request and response checkpoints end to end: the official SDKs call the gateway, which
// applies the configured policies in front of the fake upstream. Each test checks what the client
// got, what went upstream, the exact events of the trace, and that the log verifies.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(policies: unknown[], options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({ ...options, gateway: { policies, ...options.gateway } });
  return h;
}

type ApiError = InstanceType<typeof OpenAI.APIError>;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (caught: unknown) => caught as ApiError,
  );
const ask = (content: string) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }] });

const REQUEST_CHECKPOINT = (n: number) => ['policy_evaluation_start', ...Array<string>(n).fill('policy_evaluated'), 'policy_evaluation_complete'];
const RESPONSE_CHECKPOINT = REQUEST_CHECKPOINT;
const ROUTED = ['routing_start', 'routing_success'];

const modelsPolicy = { name: 'approved-models', type: 'models', allow: ['gpt-4o*', 'claude-*'] };
const piiPolicy = { name: 'pii', type: 'pii', detectors: ['email', 'card'], checkpoints: ['request'], action: 'redact' };
const capPolicy = { name: 'cap', type: 'max_tokens', max: 256 };

describe('governance: the request checkpoint', () => {
  it('lets an allowed request through, with every policy evaluated in the trace', async () => {
    const g = await harness([modelsPolicy, piiPolicy, capPolicy]);
    const { data, response } = await g.openai.chat.completions.create({ ...ask('Say hello.'), max_tokens: 100 }).withResponse();
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);
    const trace = await g.traceOf(response.headers.get('x-trace-id')!);
    expect(trace).toEqual(['request_received', ...REQUEST_CHECKPOINT(3), ...ROUTED, 'llm.call', 'request_completed']);
    const evaluated = (await g.eventsOf(response.headers.get('x-trace-id')!, 'policy_evaluated')).map((e) => e.metadata);
    expect(evaluated.map((m) => [m!.policy, m!.outcome])).toEqual(
      expect.arrayContaining([
        ['approved-models', 'ALLOW'],
        ['pii', 'ALLOW'],
        ['cap', 'ALLOW'],
      ]),
    );
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('redacts PII before the request goes upstream, caps the output, and keeps the planted text out of every record', async () => {
    const g = await harness([piiPolicy, capPolicy]);
    const { response } = await g.openai.chat.completions
      .create({ ...ask('Mail the report to jane.doe@corp.example, card 4111 1111 1111 1111.'), max_tokens: 4000 })
      .withResponse();
    const sent = g.fake.requests.at(-1)!.json as { messages: { content: string }[]; max_tokens: number };
    expect(sent.messages[0]!.content).toBe('Mail the report to [REDACTED:email], card [REDACTED:card].');
    expect(sent.max_tokens).toBe(256);
    const call = (await g.callFor(response.headers.get('x-request-id')!)).envelope;
    expect(call.safety).toMatchObject({ passed: true, sanitized: 2, detectors: ['email', 'card'] });
    expect(await g.traceOf(call.traceId)).toEqual(['request_received', ...REQUEST_CHECKPOINT(2), ...ROUTED, 'llm.call', 'request_completed']);
    await g.ledger.flush();
    expect(filesContaining(g.dir, 'jane.doe@corp.example')).toEqual([]);
    expect(g.logs.join('\n')).not.toContain('jane.doe');
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('blocks a request with 403 naming the policy and the trace id, and makes no upstream call', async () => {
    const g = await harness([modelsPolicy]);
    const error = (await failure(g.openai.chat.completions.create({ ...ask('Hi'), model: 'o3' })))!;
    expect(error.status).toBe(403);
    const traceId = error.headers!.get('x-trace-id')!;
    expect(error.error).toMatchObject({ type: 'policy_blocked', policy: 'approved-models', trace_id: traceId });
    expect(error.message).toContain(`blocked by policy "approved-models": model "o3" is not on the allow list (trace ${traceId})`);
    expect(g.fake.requests).toEqual([]);
    expect(await g.traceOf(traceId)).toEqual(['request_received', ...REQUEST_CHECKPOINT(1), 'request_blocked', 'llm.call', 'request_completed']);
    const call = (await g.callFor(error.headers!.get('x-request-id')!)).envelope;
    expect(call).toMatchObject({
      status: 'blocked',
      httpStatus: 403,
      safety: { passed: false, blockReason: 'approved-models: model "o3" is not on the allow list' },
    });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it("blocks a user whose daily budget is spent, counting the day's calls already in the ledger", async () => {
    const g = await harness([{ name: 'spend', type: 'budget', per_user_usd: 0.0001 }]);
    const as = { headers: { 'x-llm-ledger-user': 'alice' } };
    await g.openai.chat.completions.create(ask('first'), as);
    const error = (await failure(g.openai.chat.completions.create(ask('second'), as)))!;
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/blocked by policy "spend": user "alice" has spent \$0\.0\d+ today \(UTC \d{4}-\d{2}-\d{2}\); the daily budget is \$0\.0001/);
    expect(await g.traceOf(error.headers!.get('x-trace-id')!)).toEqual([
      'request_received',
      ...REQUEST_CHECKPOINT(1),
      'request_blocked',
      'llm.call',
      'request_completed',
    ]);
    // Another user still has budget.
    await g.openai.chat.completions.create(ask('third'), { headers: { 'x-llm-ledger-user': 'bob' } });
    expect(g.fake.requests).toHaveLength(2);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('rate-limits a key with 429 and Retry-After, and counts each key on its own', async () => {
    const g = await harness([{ name: 'per-key', type: 'rate_limit', requests_per_minute: 2 }]);
    await g.openai.chat.completions.create(ask('one'));
    await g.openai.chat.completions.create(ask('two'));
    const error = (await failure(g.openai.chat.completions.create(ask('three'))))!;
    expect(error.status).toBe(429);
    expect(error.error).toMatchObject({ type: 'rate_limit_exceeded', policy: 'per-key' });
    expect(Number(error.headers!.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await g.traceOf(error.headers!.get('x-trace-id')!)).toEqual([
      'request_received',
      ...REQUEST_CHECKPOINT(1),
      'request_blocked',
      'llm.call',
      'request_completed',
    ]);
    const other = new OpenAI({ apiKey: 'sk-another-client-0123456789abcdefgh', baseURL: `${g.gateway.url}/v1`, maxRetries: 0 });
    await expect(other.chat.completions.create(ask('four'))).resolves.toBeDefined();
    expect(g.fake.requests).toHaveLength(3);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('blocks when a policy throws (fail closed) and records which one failed, without its message', async () => {
    const throwing: Policy = {
      name: 'custom-check',
      type: 'custom',
      checkpoints: new Set(['request']),
      evaluate: () => {
        throw new RangeError('could not parse: Say hello to the secret project');
      },
    };
    const g = await harness([], { policies: [throwing] });
    const error = (await failure(g.openai.chat.completions.create(ask('Say hello to the secret project'))))!;
    expect(error.status).toBe(403);
    expect(error.message).toContain('blocked by policy "custom-check": policy failed, so the request is blocked (fail closed): the policy threw RangeError');
    expect(g.fake.requests).toEqual([]);
    const traceId = error.headers!.get('x-trace-id')!;
    expect(await g.traceOf(traceId)).toEqual(['request_received', ...REQUEST_CHECKPOINT(1), 'request_blocked', 'llm.call', 'request_completed']);
    const [evaluated] = await g.eventsOf(traceId, 'policy_evaluated');
    expect(evaluated!.metadata).toMatchObject({ policy: 'custom-check', outcome: 'BLOCK', failed: 'the policy threw RangeError' });
    await g.ledger.flush();
    expect(filesContaining(g.dir, 'secret project')).toEqual([]);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });
});

describe('governance: the response checkpoint', () => {
  const ledgerWord = (action: string) => ({
    name: 'no-ledger-talk',
    type: 'pattern',
    patterns: [{ name: 'l-word', regex: 'ledger' }],
    checkpoints: ['response'],
    action,
  });

  it('blocks an answer with 403 after the upstream answered, recording both', async () => {
    const g = await harness([ledgerWord('block')]);
    const error = (await failure(g.openai.chat.completions.create(ask('Say hello.'))))!;
    expect(error.status).toBe(403);
    expect(error.message).toContain('this answer was blocked by policy "no-ledger-talk": text matching its patterns in the answer: l-word ×1');
    expect(g.fake.requests).toHaveLength(1);
    expect(await g.traceOf(error.headers!.get('x-trace-id')!)).toEqual([
      'request_received',
      ...ROUTED,
      ...RESPONSE_CHECKPOINT(1),
      'response_blocked',
      'llm.call',
      'request_completed',
    ]);
    expect((await g.callFor(error.headers!.get('x-request-id')!)).envelope).toMatchObject({ status: 'blocked', httpStatus: 403, outputTokens: 12 });
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('redacts an answer before the client sees it, plain and streamed', async () => {
    const g = await harness([ledgerWord('redact')]);
    const redacted = FAKE_ANSWER.replace('ledger', '[REDACTED:l-word]');
    const { data, response } = await g.openai.chat.completions.create(ask('Say hello.')).withResponse();
    expect(data.choices[0]!.message.content).toBe(redacted);
    expect(await g.traceOf(response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      ...ROUTED,
      ...RESPONSE_CHECKPOINT(1),
      'llm.call',
      'request_completed',
    ]);

    const { data: stream, response: streamed } = await g.openai.chat.completions.create({ ...ask('Say hello.'), stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(redacted);
    const call = (await g.callFor(streamed.headers.get('x-request-id')!)).envelope;
    expect(call.safety).toMatchObject({ sanitized: 1 });
    expect(await g.traceOf(call.traceId)).toEqual(['request_received', ...ROUTED, ...RESPONSE_CHECKPOINT(1), 'llm.call', 'request_completed']);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('redacts and blocks Anthropic and Responses API streams in their own formats, which the SDKs read', async () => {
    const g = await harness([ledgerWord('redact')]);
    const redacted = FAKE_ANSWER.replace('ledger', '[REDACTED:l-word]');
    const message = await g.anthropic.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: redacted });
    const response = await g.openai.responses.stream({ model: 'gpt-4.1', input: 'Say hello.' }).finalResponse();
    expect(response.output_text).toBe(redacted);
    await h!.close();

    const b = await harness([ledgerWord('block')]);
    const anthropicError = await b.anthropic.messages
      .stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] })
      .finalMessage()
      .then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
    expect(anthropicError?.message).toMatch(/policy_blocked.*blocked by policy \\"no-ledger-talk\\"/);
    const responsesError = await b.openai.responses
      .stream({ model: 'gpt-4.1', input: 'Say hello.' })
      .finalResponse()
      .then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
    expect(responsesError?.message).toContain('blocked by policy "no-ledger-talk"');
    expect((await b.callAfter(1)).envelope.status).toBe('blocked');
    expect((await b.calls()).map((c) => c.envelope.status)).toEqual(['blocked', 'blocked']);
    expect(await b.ledger.verify()).toMatchObject({ ok: true });
  });

  it('with sync durability, holds the end of a checked stream until its records are committed', async () => {
    const g = await harness([ledgerWord('redact')], { gateway: { durability: 'sync' } });
    const { data: stream, response } = await g.openai.chat.completions.create({ ...ask('Say hello.'), stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(FAKE_ANSWER.replace('ledger', '[REDACTED:l-word]'));
    // Committed before the stream ended: found without waiting.
    expect((await g.ledger.search({ requestId: response.headers.get('x-request-id')!, kind: 'llm.call' })).records).toHaveLength(1);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });

  it('stops a streamed answer with an error event once a blocking rule matches, before the match is released', async () => {
    const g = await harness([ledgerWord('block')]);
    const { data: stream, response } = await g.openai.chat.completions.create({ ...ask('Say hello.'), stream: true }).withResponse();
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (caught: unknown) => caught as ApiError,
    );
    expect(error?.message).toContain('blocked by policy "no-ledger-talk"');
    expect(text).not.toContain('ledger');
    expect(FAKE_ANSWER.startsWith(text)).toBe(true);
    expect(await g.traceOf(response.headers.get('x-trace-id')!)).toEqual([
      'request_received',
      ...ROUTED,
      ...RESPONSE_CHECKPOINT(1),
      'response_blocked',
      'llm.call',
      'request_completed',
    ]);
    expect(await g.ledger.verify()).toMatchObject({ ok: true });
  });
});

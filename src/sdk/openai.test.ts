import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ANSWER, FAKE_EMBEDDING_TOKENS_PER_INPUT, FAKE_OPENAI_USAGE, FAKE_TOOL } from '../providers/simulated/fake-scenarios.js';
import { CLIENT_KEY, scenario, startSdkHarness, type SdkHarness } from './test-support/sdk-harness.js';

// The official OpenAI SDK, audited, pointed at a fake upstream speaking OpenAI's wire format.
// After each call: what the caller got, and the one record, its usage, cost and verify.

let h: SdkHarness;
beforeAll(async () => {
  h = await startSdkHarness();
});
afterAll(() => h.close());

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Say hello.' },
];
const USAGE = {
  inputTokens: FAKE_OPENAI_USAGE.prompt,
  cachedTokens: FAKE_OPENAI_USAGE.cached,
  outputTokens: FAKE_OPENAI_USAGE.completion,
  reasoningTokens: FAKE_OPENAI_USAGE.reasoning,
};
// gpt-4o: $2.50 per million uncached input, $1.25 cached, $10 output (reasoning is inside output).
const GPT_4O_COST = ((50 - 20) * 2.5 + 20 * 1.25 + 12 * 10) / 1e6;
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('auditOpenAI: plain calls', () => {
  it('returns a client of the same class, leaves the original unaudited, and answers exactly as the SDK does', async () => {
    const original = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0 });
    const audited = h.openai();
    expect(audited).toBeInstanceOf(OpenAI);
    expect(audited).not.toBe(original);
    const before = await h.callCount(audited);

    const plain = await original.chat.completions.create({ model: 'gpt-4o', messages });
    const wrapped = await audited.chat.completions.create({ model: 'gpt-4o', messages });
    const strip = (completion: typeof plain) => ({ ...completion, id: '', created: 0 });
    expect(strip(wrapped)).toEqual(strip(plain));
    expect(wrapped._request_id).toMatch(/^req_/);
    expect(await h.callCount(audited)).toBe(before + 1);
  });

  it('records model, usage, cost, latency, tool facts, identity and texts of a chat completion', async () => {
    const client = h.openai({ user: 'alice', session: (request) => `session-of-${(request.params as { model: string }).model}`, metadata: { app: 'billing' } });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(data.choices[0]!.message.content).toBe(FAKE_ANSWER);

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      kind: 'llm.call',
      component: 'sdk',
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o',
      user: 'alice',
      session: 'session-of-gpt-4o',
      status: 'success',
      httpStatus: 200,
      ...USAGE,
      messageCount: 2,
      stopReason: 'stop',
      apiKeyPrefix: CLIENT_KEY.slice(0, 8),
      metadata: { app: 'billing', sdk: { upstreamRequestId: response.headers.get('x-request-id') } },
    });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    expect(record.latencyMs).toBeGreaterThan(0);
    expect(record.ttftMs).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(CLIENT_KEY);
    expect(await h.revealed(record)).toMatchObject({ system: 'Be brief.', output: FAKE_ANSWER });
    expect((await h.revealed(record)).input).toContain('Say hello.');
  });

  it('leaves the raw answer of asResponse() unread for the caller, and still records its usage', async () => {
    const client = h.openai();
    const response = await client.chat.completions.create({ model: 'gpt-4o', messages }).asResponse();
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(await h.lastCall(client)).toMatchObject({ status: 'success', ...USAGE });
  });

  it('records the tools offered and the tool calls made', async () => {
    const client = h.openai();
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] }, scenario('tool'));
    expect(
      JSON.parse(completion.choices[0]!.message.tool_calls![0]!.type === 'function' ? completion.choices[0]!.message.tool_calls![0]!.function.arguments : ''),
    ).toEqual(FAKE_TOOL.arguments);
    expect(await h.lastCall(client)).toMatchObject({
      endpoint: 'chat.completions',
      status: 'success',
      toolsProvided: 1,
      toolCalls: 1,
      stopReason: 'tool_calls',
    });
  });

  it('records a Responses API call with its instructions, reasoning tokens and cost', async () => {
    const client = h.openai();
    const response = await client.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello.' });
    expect(response.output_text).toBe(FAKE_ANSWER);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ endpoint: 'responses', model: 'gpt-4o', status: 'success', ...USAGE });
    expect(record.costUsd).toBeCloseTo(GPT_4O_COST, 12);
    const texts = await h.revealed(record);
    expect(texts).toMatchObject({ system: 'Be brief.', output: FAKE_ANSWER });
    expect(texts.input).toContain('Say hello.');
  });

  it('records embeddings, while the SDK still decodes its base64 vectors', async () => {
    const client = h.openai();
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first', 'second'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]!.embedding.every((value) => typeof value === 'number')).toBe(true);
    const record = await h.lastCall(client);
    const tokens = 2 * FAKE_EMBEDDING_TOKENS_PER_INPUT;
    expect(record).toMatchObject({ endpoint: 'embeddings', model: 'text-embedding-3-small', status: 'success', inputTokens: tokens });
    expect(record.costUsd).toBeCloseTo((tokens * 0.02) / 1e6, 12);
  });

  it('records a legacy completion', async () => {
    const client = h.openai();
    const completion = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.' });
    expect(completion.choices[0]!.text).toBe(FAKE_ANSWER);
    expect(await h.lastCall(client)).toMatchObject({
      endpoint: 'completions',
      model: 'gpt-3.5-turbo-instruct',
      status: 'success',
      inputTokens: FAKE_OPENAI_USAGE.prompt,
      outputTokens: FAKE_OPENAI_USAGE.completion,
    });
  });

  it('records calls made by the SDK helpers built on create, such as parse()', async () => {
    const client = h.openai();
    const parsed = await client.chat.completions.parse({ model: 'gpt-4o', messages });
    expect(parsed.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(await h.lastCall(client)).toMatchObject({ endpoint: 'chat.completions', status: 'success', ...USAGE });
  });

  it('records nothing for requests that are not model calls', async () => {
    const client = h.openai();
    const before = await h.callCount(client);
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    expect(await h.callCount(client)).toBe(before);
  });

  it('audits clones made with withOptions, and keeps their options', async () => {
    const client = h.openai({ user: 'bob' }).withOptions({ defaultHeaders: { 'x-fake-scenario': 'tool' } });
    await client.chat.completions.create({ model: 'gpt-4o', messages });
    expect(await h.lastCall(client)).toMatchObject({ user: 'bob', toolCalls: 1 });
  });
});

describe('auditOpenAI: failures', () => {
  it('re-throws an upstream 400 exactly as the SDK throws it, and records it', async () => {
    const original = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0 });
    const client = h.openai();
    const plain = (await original.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-400')).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    const wrapped = (await client.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-400')).catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(wrapped).toBeInstanceOf(OpenAI.BadRequestError);
    expect({ status: wrapped.status, error: wrapped.error, message: wrapped.message, code: wrapped.code, type: wrapped.type }).toEqual({
      status: plain.status,
      error: plain.error,
      message: plain.message,
      code: plain.code,
      type: plain.type,
    });

    const record = await h.lastCall(client);
    expect(record).toMatchObject({
      endpoint: 'chat.completions',
      model: 'gpt-4o',
      status: 'error',
      httpStatus: 400,
      error: 'HTTP 400 invalid_request_error (invalid_value)',
      errorType: 'invalid_request_error',
      errorCode: 'invalid_value',
    });
    // The message is the upstream's text: digested in the envelope, stored (here in plaintext) beside it.
    const message = (plain.error as { message: string }).message;
    expect(JSON.stringify(record)).not.toContain(message);
    expect(record.digests?.error).toBe(h.ledger.contentDigest(message));
    expect((await h.revealed(record)).error).toBe(message);
    expect(h.ledgerErrors).toEqual([]);
  });

  it('records one call for a request the SDK retried, with the attempts in its metadata', async () => {
    const client = h.openai({}, { maxRetries: 1, fetch: retryFastFetch() });
    const error = await client.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-500')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'error', httpStatus: 500, metadata: { sdk: { attempts: 2 } } });
    expect(record.error).toContain('HTTP 500 server_error');
  });

  it('records a retried request that then succeeded as one success, through the application’s own fetch', async () => {
    let attempts = 0;
    const failOnce = retryFastFetch((headers) => {
      attempts += 1;
      headers.set('x-fake-scenario', attempts === 1 ? 'error-429' : 'answer');
    });
    const client = h.openai({}, { maxRetries: 2, fetch: failOnce });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages });
    expect(completion.choices[0]!.message.content).toBe(FAKE_ANSWER);
    expect(attempts).toBe(2);
    expect(await h.lastCall(client)).toMatchObject({ status: 'success', httpStatus: 200, ...USAGE, metadata: { sdk: { attempts: 2 } } });
  });

  it('records a connection failure with the SDK error class, and re-throws it', async () => {
    const client = h.openai({}, { baseURL: 'http://127.0.0.1:9/v1' });
    const error = await client.chat.completions.create({ model: 'gpt-4o', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    const record = await h.lastCall(client);
    expect(record).toMatchObject({ status: 'error', model: 'gpt-4o', error: 'APIConnectionError: Connection error.' });
    expect(record.httpStatus).toBeUndefined();
  });

  it('records an SDK timeout as an error with the SDK error class', async () => {
    const client = h.openai({}, { timeout: 100 });
    const error = await client.chat.completions
      .create({ model: 'gpt-4o', messages }, { headers: { 'x-fake-scenario': 'slow', 'x-fake-response-delay-ms': '2000' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(await h.lastCall(client)).toMatchObject({ status: 'error', error: 'APIConnectionTimeoutError: Request timed out.' });
  });

  it('records an abort before the answer as aborted, and re-throws the SDK’s abort error', async () => {
    const client = h.openai();
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'gpt-4o', messages }, { ...scenario('slow'), signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await h.lastCall(client)).toMatchObject({ status: 'aborted', model: 'gpt-4o' });
  });
});

/**
 * An application's own fetch: it may rewrite request headers, and it answers retries at once
 * (`retry-after-ms: 0`) so retry tests do not wait the SDK's back-off.
 */
function retryFastFetch(rewrite?: (headers: Headers) => void): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    rewrite?.(headers);
    const response = await fetch(input, { ...init, headers });
    const answered = new Headers(response.headers);
    answered.set('retry-after-ms', '0');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: answered });
  };
}

import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { filesContaining, scenario, startHarness, type Harness } from './test-support/harness.js';

// Identity (gateway keys or pass-through), the client's context headers, and the promise that
// no key, the provider's or the client's, is ever found in a file, record, log line or error body.

const OPENAI_PROVIDER_KEY = 'sk-proj-PLANTED-openai-provider-key-7f3a9c1e5b';
const ANTHROPIC_PROVIDER_KEY = 'sk-ant-PLANTED-anthropic-provider-key-2d8e4a6c';
const ALICE_KEY = 'llk-PLANTED-alice-gateway-key-0b1c2d3e4f5a6b7c';
const TEAM_KEY = 'llk-PLANTED-risk-team-gateway-key-9e8d7c6b5a4f';
const CLIENT_PROVIDER_KEY = 'sk-PLANTED-client-own-provider-key-a1b2c3d4e5f6';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const messages = [{ role: 'user' as const, content: 'Say hello.' }];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Looks for every secret everywhere it could leak: files, records, log lines, error bodies. */
async function expectNoSecretAnywhere(g: Harness, secrets: string[], errorBodies: string[]): Promise<void> {
  await g.ledger.flush();
  const records: unknown[] = [];
  for await (const batch of g.ledger.records()) records.push(...batch);
  const haystacks = { records: JSON.stringify(records), logs: g.logs.join('\n'), errors: errorBodies.join('\n') };
  expect(records.length).toBeGreaterThan(0);
  expect(errorBodies.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    expect(filesContaining(g.dir, secret), `${secret} in files`).toEqual([]);
    for (const [where, text] of Object.entries(haystacks)) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
  }
}

describe('gateway keys', () => {
  async function startKeyedOnFake(): Promise<Harness> {
    h = await startHarness({
      fake: { apiKeys: [OPENAI_PROVIDER_KEY, ANTHROPIC_PROVIDER_KEY] },
      clientKey: ALICE_KEY,
      env: { RISK_TEAM_KEY: TEAM_KEY },
      providerKeys: { openai: OPENAI_PROVIDER_KEY, anthropic: ANTHROPIC_PROVIDER_KEY },
      gateway: {
        auth: 'gateway_keys',
        keys: [
          { sha256: sha256(ALICE_KEY), user: 'alice', team: 'payments' },
          { env: 'RISK_TEAM_KEY', team: 'risk' },
        ],
        request_timeout_ms: 300,
      },
    });
    return h;
  }

  it('maps a gateway key to its user and team, and calls the provider with the provider key instead', async () => {
    const g = await startKeyedOnFake();
    const { response } = await g.openai.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(g.fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${OPENAI_PROVIDER_KEY}`);
    const record = (await g.callFor(response.headers.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({ user: 'alice', tenant: 'payments', apiKeyHash: sha256(ALICE_KEY), apiKeyPrefix: ALICE_KEY.slice(0, 8), status: 'success' });

    await g.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages });
    expect(g.fake.requests.at(-1)!.headers['x-api-key']).toBe(ANTHROPIC_PROVIDER_KEY);
    expect(g.fake.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('takes the user from x-llm-ledger-user when the key stands for a team only', async () => {
    const g = await startKeyedOnFake();
    const team = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${g.gateway.url}/v1`, maxRetries: 0 });
    const { response } = await team.chat.completions.create({ model: 'gpt-4o', messages }, { headers: { 'x-llm-ledger-user': 'bob' } }).withResponse();
    expect((await g.callFor(response.headers.get('x-request-id')!)).envelope).toMatchObject({ user: 'bob', tenant: 'risk' });
  });

  it('refuses a missing or unknown key with 401 in the endpoint format, records it, and never calls upstream', async () => {
    const g = await startKeyedOnFake();
    const stranger = new OpenAI({ apiKey: 'llk-not-a-key-of-this-gateway-xxxxxxxx', baseURL: `${g.gateway.url}/v1`, maxRetries: 0 });
    const error = (await stranger.chat.completions.create({ model: 'gpt-4o', messages }).catch((caught: unknown) => caught)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.message).toMatch(/not a gateway key known to this gateway/);
    const anonymous = await fetch(`${g.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: '{}',
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: expect.stringMatching(/needs a gateway key/) },
    });
    expect(g.fake.requests).toHaveLength(0);
    const record = (await g.callFor(error.headers!.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({ status: 'error', httpStatus: 401, apiKeyPrefix: 'llk-not-' });
    expect(record.digests).toBeUndefined();
  });

  it('never lets a provider key or a gateway key reach a file, record, log line or error body', async () => {
    const g = await startKeyedOnFake();
    const errorBodies: string[] = [];
    const catchBody = (caught: unknown) =>
      errorBodies.push(JSON.stringify((caught as InstanceType<typeof OpenAI.APIError>).error) + String((caught as Error).message));
    await g.openai.chat.completions.create({ model: 'gpt-4o', messages });
    const stream = await g.openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    for await (const _chunk of stream);
    await g.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages });
    await g.openai.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-401')).catch(catchBody);
    await g.openai.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-500')).catch(catchBody);
    await g.openai.chat.completions
      .create({ model: 'gpt-4o', messages }, { headers: { 'x-fake-scenario': 'slow', 'x-fake-response-delay-ms': '2000' } })
      .catch(catchBody);
    await g.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages }, scenario('error-529')).catch(catchBody);
    await new OpenAI({ apiKey: 'wrong', baseURL: `${g.gateway.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'gpt-4o', messages })
      .catch(catchBody);
    await new Anthropic({ apiKey: 'wrong', baseURL: g.gateway.url, maxRetries: 0 }).messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 32, messages })
      .catch(catchBody);
    await expectNoSecretAnywhere(g, [OPENAI_PROVIDER_KEY, ANTHROPIC_PROVIDER_KEY, ALICE_KEY, TEAM_KEY], errorBodies);
  });
});

describe('pass-through of the client key', () => {
  it("forwards the client's own key, records only its hash and prefix, and leaks it nowhere", async () => {
    const g = (h = await startHarness({ fake: { apiKeys: [CLIENT_PROVIDER_KEY] }, clientKey: CLIENT_PROVIDER_KEY }));
    const { response } = await g.openai.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(g.fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${CLIENT_PROVIDER_KEY}`);
    const record = (await g.callFor(response.headers.get('x-request-id')!)).envelope;
    expect(record).toMatchObject({ apiKeyHash: sha256(CLIENT_PROVIDER_KEY), apiKeyPrefix: CLIENT_PROVIDER_KEY.slice(0, 8) });
    const errorBodies: string[] = [];
    await g.openai.chat.completions.create({ model: 'gpt-4o', messages }, scenario('error-400')).catch((caught: Error) => errorBodies.push(caught.message));
    await g.anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 32, messages }, scenario('error-500'))
      .catch((caught: Error) => errorBodies.push(caught.message));
    await expectNoSecretAnywhere(g, [CLIENT_PROVIDER_KEY], errorBodies);
  });
});

describe("the client's context headers", () => {
  it('takes the trace id from traceparent, and user, session, conversation, metadata and its own request id', async () => {
    const g = (h = await startHarness());
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { response } = await g.openai.chat.completions
      .create(
        { model: 'gpt-4o', messages },
        {
          headers: {
            traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
            'x-request-id': 'client-req-42',
            'x-llm-ledger-user': 'carol',
            'x-llm-ledger-session': 'sess-9',
            'x-llm-ledger-conversation': 'conv-3',
            'x-llm-ledger-metadata': JSON.stringify({ app: 'billing', ticket: 'T-12' }),
          },
        },
      )
      .withResponse();
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    const record = (await g.callFor('client-req-42')).envelope;
    expect(record).toMatchObject({ traceId, user: 'carol', session: 'sess-9', conversation: 'conv-3', metadata: { app: 'billing', ticket: 'T-12' } });
    // The gateway's own headers are not sent on to the provider.
    expect(Object.keys(g.fake.requests.at(-1)!.headers).filter((name) => name.startsWith('x-llm-ledger-'))).toEqual([]);
    expect(g.fake.requests.at(-1)!.headers.traceparent).toBe(`00-${traceId}-00f067aa0ba902b7-01`);
  });

  it('lets a client lower capture for its own call with x-llm-ledger-capture', async () => {
    const g = (h = await startHarness());
    const plain = await g.openai.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    const lowered = await g.openai.chat.completions.create({ model: 'gpt-4o', messages }, { headers: { 'x-llm-ledger-capture': 'none' } }).withResponse();
    expect((await g.callFor(plain.response.headers.get('x-request-id')!)).envelope.digests?.input).toBeDefined();
    expect((await g.callFor(lowered.response.headers.get('x-request-id')!)).envelope.digests).toBeUndefined();
  });

  it('gives every answer request and trace ids, health and unknown paths included', async () => {
    const g = (h = await startHarness());
    for (const path of ['/health', '/nowhere', '/v1/chat/completions']) {
      const response = await fetch(`${g.gateway.url}${path}`);
      expect(response.headers.get('x-request-id'), path).toBeTruthy();
      expect(response.headers.get('x-trace-id'), path).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

import { randomBytes } from 'node:crypto';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { printable } from '../ledger/printable.js';

export interface DemoSdks {
  OpenAI: typeof OpenAI;
  Anthropic: typeof Anthropic;
}

export interface DemoTraffic {
  calls: number;
  failed: number;
  blocked: number;
  /** The trace of the agent turn: a tool call and the answer that follows it. */
  agentTraceId: string;
  /** A request refused by the model allow-list. */
  blockedTraceId: string;
  /** A prompt sent to review and approved by the demo's reviewer. */
  escalatedTraceId: string;
  /** The call whose primary provider failed, answered by the fallback. */
  fallbackTraceId: string;
}

/**
 * The official SDKs are loaded only by the demo, and only when it runs: no other command needs
 * them, and an installation without them still has every other command.
 */
export async function loadDemoSdks(): Promise<DemoSdks> {
  try {
    const [openai, anthropic] = await Promise.all([import('openai'), import('@anthropic-ai/sdk')]);
    return { OpenAI: openai.default, Anthropic: anthropic.default };
  } catch {
    throw new Error('the demo drives the gateway with the official SDKs; install them first: npm install openai @anthropic-ai/sdk');
  }
}

// Sent through the gateway to the simulated upstream, which accepts any key; only its hash and prefix are recorded.
const DEMO_KEY = 'sk-demo-simulated-0123456789abcdefghij';

/**
 * A mix of calls through the gateway, as applications would make them: plain, streamed, tool
 * calls within one traced agent turn, the Responses API, embeddings, and two upstream failures.
 */
export async function sendDemoTraffic(gatewayUrl: string, sdks: DemoSdks, out: (line: string) => void, reviewerToken: string): Promise<DemoTraffic> {
  const openai = new sdks.OpenAI({ apiKey: DEMO_KEY, baseURL: `${gatewayUrl}/v1`, maxRetries: 0 });
  const anthropic = new sdks.Anthropic({ apiKey: DEMO_KEY, baseURL: gatewayUrl, maxRetries: 0 });
  const as = (user: string, session: string, extra: Record<string, string> = {}) => ({
    headers: { 'x-llm-ledger-user': user, 'x-llm-ledger-session': session, ...extra },
  });
  const ask = [{ role: 'user' as const, content: 'Say hello to the auditors.' }];
  let calls = 0;
  let failed = 0;
  const show = (user: string, what: string, result: string) => {
    calls++;
    out(`  ${user.padEnd(6)} ${what.padEnd(52)} ${printable(result)}`);
  };

  const plain = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask }, as('alice', 's-1'));
  show('alice', 'OpenAI chat, gpt-4o', `"${plain.choices[0]?.message.content ?? ''}"`);

  // gpt-4o-mini goes to the primary first, which fails this first call: the gateway falls back.
  const { data: stream, response: streamed } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages: ask, stream: true, stream_options: { include_usage: true } }, as('bob', 's-2'))
    .withResponse();
  let chunks = 0;
  for await (const _chunk of stream) chunks++;
  show('bob', 'OpenAI chat, gpt-4o-mini, streamed (primary fails)', `${chunks} chunks, from the fallback`);
  const fallbackTraceId = streamed.headers.get('x-trace-id')!;

  const message = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 256, system: 'Be brief.', messages: ask }, as('carol', 's-3'));
  show('carol', 'Anthropic messages, claude-sonnet-4-6', `${message.usage.output_tokens} output tokens`);

  const final = await anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 256, messages: ask }, as('alice', 's-1')).finalMessage();
  show('alice', 'Anthropic messages, claude-haiku-4-5, streamed', `stop: ${final.stop_reason ?? ''}`);

  // One agent turn: the model asks for a tool, the app runs it and asks again. One trace holds both.
  const agentTraceId = randomBytes(16).toString('hex');
  const traced = (extra: Record<string, string> = {}) =>
    as('alice', 's-1', { traceparent: `00-${agentTraceId}-${randomBytes(8).toString('hex')}-01`, ...extra });
  const tools = [
    {
      type: 'function' as const,
      function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    },
  ];
  const question = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
  const toolTurn = await openai.chat.completions.create({ model: 'gpt-4o', messages: question, tools }, traced({ 'x-fake-scenario': 'tool' }));
  const toolCall = toolTurn.choices[0]!.message.tool_calls![0]!;
  show('alice', 'OpenAI chat with tools, gpt-4o (agent turn 1)', `tool call ${toolCall.type === 'function' ? toolCall.function.name : toolCall.type}`);
  const answer = await openai.chat.completions.create(
    { model: 'gpt-4o', tools, messages: [...question, toolTurn.choices[0]!.message, { role: 'tool', tool_call_id: toolCall.id, content: '{"celsius": 21}' }] },
    traced(),
  );
  show('alice', 'OpenAI chat with the tool result (agent turn 2)', `"${answer.choices[0]?.message.content ?? ''}"`);

  const response = await openai.responses.create({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'Summarise the audit.' }, as('bob', 's-2'));
  show('bob', 'OpenAI Responses API, gpt-4.1', `${response.usage?.total_tokens ?? 0} tokens`);

  const embeddings = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['first policy', 'second policy'] }, as('carol', 's-3'));
  show('carol', 'OpenAI embeddings, text-embedding-3-small', `${embeddings.data.length} vectors`);

  await openai.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content: 'Email the summary to dana@example.com please.' }] },
    as('alice', 's-1'),
  );
  show('alice', 'OpenAI chat with an email address in the prompt', 'redacted before it went upstream');

  // A prompt about the codename waits for a reviewer; the demo plays the reviewer through the review API.
  const escalated = openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Draft the Project Falcon announcement.' }] }, as('carol', 's-3'))
    .withResponse();
  const reviewer = { authorization: `Bearer ${reviewerToken}`, 'content-type': 'application/json' };
  const pending = await waitForPendingReview(gatewayUrl, reviewer);
  await fetch(`${gatewayUrl}/v1/reviews/${pending}/approve`, {
    method: 'POST',
    headers: reviewer,
    body: JSON.stringify({ reason: 'announcement approved by legal' }),
  });
  const { response: approved } = await escalated;
  show('carol', 'OpenAI chat about "Project Falcon" (escalated)', 'held until demo-reviewer approved it');
  const escalatedTraceId = approved.headers.get('x-trace-id')!;

  let blocked = 0;
  const refused = (await openai.chat.completions.create({ model: 'gpt-3.5-turbo', messages: ask }, as('bob', 's-2')).catch((caught: unknown) => caught)) as {
    status?: number;
    headers?: Headers;
  };
  blocked++;
  show('bob', 'OpenAI chat, gpt-3.5-turbo (not on the allow list)', `HTTP ${refused.status ?? '?'}, blocked by approved-models`);
  const blockedTraceId = refused.headers?.get('x-trace-id') ?? '';

  for (const [user, what, call] of [
    [
      'bob',
      'OpenAI chat, gpt-4o (upstream fails)',
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: ask }, as('bob', 's-2', { 'x-fake-scenario': 'error-500' })),
    ],
    [
      'carol',
      'Anthropic messages (upstream overloaded)',
      () => anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: ask }, as('carol', 's-3', { 'x-fake-scenario': 'error-529' })),
    ],
  ] as const) {
    const error = await (call() as Promise<unknown>).then(
      () => undefined,
      (caught: unknown) => caught as { status?: number },
    );
    failed++;
    show(user, what, `HTTP ${error?.status ?? '?'}, passed through unchanged`);
  }
  return { calls, failed, blocked, agentTraceId, blockedTraceId, escalatedTraceId, fallbackTraceId };
}

/** The id of the first pending review, as a reviewer would find it. */
async function waitForPendingReview(gatewayUrl: string, headers: Record<string, string>): Promise<string> {
  for (let tries = 0; tries < 300; tries++) {
    const { data } = (await (await fetch(`${gatewayUrl}/v1/reviews?status=pending`, { headers })).json()) as { data: { id: string }[] };
    if (data[0]) return data[0].id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the escalated demo request never showed up for review');
}

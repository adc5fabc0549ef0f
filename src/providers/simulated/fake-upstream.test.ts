import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicMessagesAdapter } from '../anthropic-messages.js';
import { openAIChatAdapter } from '../openai-chat.js';
import { observeStream } from '../stream-observer.js';
import { FAKE_ANSWER } from './fake-scenarios.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

// The fake's own behaviour, seen on the wire with plain fetch: what the SDKs would hide.
let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream({ slowMs: 10_000 });
});
afterAll(() => fake.close());

const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${fake.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...(signal ? { signal } : {}),
  });

describe('fake upstream on the wire', () => {
  it('listens on 127.0.0.1 only, on a free port', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.port).toBeGreaterThan(0);
  });

  it('records each request with its headers and body', async () => {
    await (await chat({}, { 'x-trace-me': 'yes' })).json();
    const sent = fake.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/chat/completions', scenario: 'answer', completed: true, clientClosed: false, status: 200 });
    expect(sent.headers['x-trace-me']).toBe('yes');
    expect(sent.json).toMatchObject({ model: 'gpt-4o' });
  });

  it('flushes each SSE frame separately, with the delay asked for between them', async () => {
    const started = Date.now();
    const response = await chat({ stream: true }, { 'x-fake-chunk-delay-ms': '15' });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let reads = 0;
    for (let part = await reader.read(); !part.done; part = await reader.read()) reads += 1;
    const frames = fake.requests.at(-1)!.responseBody.split('\n\n').length - 1;
    // One read per frame; a busy machine may now and then hand the reader two at once.
    expect(reads).toBeGreaterThanOrEqual(frames - 2);
    expect(frames).toBeGreaterThan(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15 * (frames - 1) - 5);
  });

  it('sends comments, a non-JSON event and a split line in the malformed scenario, which the observer survives', async () => {
    const response = await chat({ stream: true }, { 'x-fake-scenario': 'malformed' });
    const observer = observeStream(openAIChatAdapter);
    for await (const chunk of response.body!) observer.push(chunk);
    expect(observer.end()).toMatchObject({ output: FAKE_ANSWER, stream: { completed: true, malformedEvents: 1 } });
    expect(observer.sse).toMatchObject({ malformedEvents: 1, overflowed: false });
  });

  it('does the same for Anthropic streams', async () => {
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'x-fake-scenario': 'malformed' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const observer = observeStream(anthropicMessagesAdapter);
    for await (const chunk of response.body!) observer.push(chunk);
    expect(observer.end()).toMatchObject({ output: FAKE_ANSWER, stopReason: 'end_turn', stream: { completed: true, malformedEvents: 1 } });
  });

  it('picks a scenario from a fake- model name when no header says otherwise', async () => {
    const response = await chat({ model: 'fake-error-429' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
  });

  it('quotes the request back in a 400, as providers do when they reject an input (quote-400)', async () => {
    const response = await chat({ messages: [{ role: 'user', content: 'planted-quote-31e9' }] }, { 'x-fake-scenario': 'quote-400' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
    expect(body.error.message).toContain('planted-quote-31e9');
  });

  it('answers 200 with bodies that are not of the wire format (garbage, html, empty, wrong-shape, truncated), plain and streamed', async () => {
    const seen: Array<[string, boolean, string | null, number]> = [];
    for (const scenario of ['garbage', 'html', 'empty', 'wrong-shape', 'truncated']) {
      for (const stream of [false, true]) {
        const response = await chat({ stream }, { 'x-fake-scenario': scenario });
        const bytes = Buffer.from(await response.arrayBuffer());
        const sent = fake.requests.at(-1)!;
        expect(bytes.equals(sent.responseBytes ?? Buffer.from(sent.responseBody))).toBe(true);
        seen.push([scenario, stream, response.headers.get('content-type'), response.status]);
      }
    }
    expect(seen).toEqual([
      ['garbage', false, 'application/json', 200],
      ['garbage', true, 'text/event-stream; charset=utf-8', 200],
      ['html', false, 'text/html; charset=utf-8', 200],
      ['html', true, 'text/html; charset=utf-8', 200],
      ['empty', false, 'application/json', 200],
      ['empty', true, 'text/event-stream; charset=utf-8', 200],
      ['wrong-shape', false, 'application/json', 200],
      ['wrong-shape', true, 'text/event-stream; charset=utf-8', 200],
      ['truncated', false, 'application/json', 200],
      ['truncated', true, 'text/event-stream; charset=utf-8', 200],
    ]);
    const garbage = fake.requests.find((r) => r.scenario === 'garbage')!;
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(garbage.responseBytes)).toThrow();
  });

  it('refuses an unknown scenario, naming the valid ones', async () => {
    const response = await chat({}, { 'x-fake-scenario': 'explode' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/unknown fake scenario "explode"; use one of answer, tool/);
  });

  it('answers unknown paths with 404 and missing keys with 401, in OpenAI’s error shape', async () => {
    const unknown = await fetch(`${fake.url}/v1/nothing`, { method: 'POST', headers: { authorization: 'Bearer sk-test' }, body: '{}' });
    expect(unknown.status).toBe(404);
    const anonymous = await fetch(`${fake.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('stalls a plain request after its headers: the body never comes', async () => {
    const controller = new AbortController();
    const response = await chat({}, { 'x-fake-scenario': 'stall' }, controller.signal);
    expect(response.status).toBe(200);
    const body = response.text();
    const outcome = await Promise.race([body.then(() => 'body'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 150))]);
    expect(outcome).toBe('still waiting');
    controller.abort();
    await expect(body).rejects.toThrow();
  });

  it('holds a slow request, and a closed fake ends what is still open', async () => {
    const other = await startFakeUpstream();
    const pending = fetch(`${other.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'x-fake-scenario': 'slow', 'x-fake-response-delay-ms': '60000' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [] }),
    });
    await expect.poll(() => other.requests.length).toBe(1);
    await other.close();
    await expect(pending).rejects.toThrow();
  });
});

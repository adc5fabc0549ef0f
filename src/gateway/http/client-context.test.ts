import { describe, expect, it } from 'vitest';
import { readClientContext, traceIdFrom } from './client-context.js';

describe('traceIdFrom', () => {
  it('takes the trace id of a valid W3C traceparent', () => {
    expect(traceIdFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdFrom('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it.each([
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['extra fields in version 00', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'],
    ['garbage', 'hello'],
  ])('ignores %s (a new trace starts)', (_, header) => {
    expect(traceIdFrom(header)).toBeUndefined();
  });
});

describe('readClientContext', () => {
  it('always gives a request id and a W3C trace id, generated when the client sends none', () => {
    const { context, problem } = readClientContext({}, 1000);
    expect(problem).toBeUndefined();
    expect(context.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(readClientContext({}, 1000).context.requestId).not.toBe(context.requestId);
  });

  it("keeps a client's request id only when it is a plain token", () => {
    expect(readClientContext({ 'x-request-id': 'req-1:a.b_c' }, 1000).context.requestId).toBe('req-1:a.b_c');
    expect(readClientContext({ 'x-request-id': 'has space' }, 1000).context.requestId).not.toBe('has space');
  });

  it('reads user, session, conversation, capture and metadata', () => {
    const headers = {
      'x-llm-ledger-user': 'alice',
      'x-llm-ledger-session': 's',
      'x-llm-ledger-conversation': 'c',
      'x-llm-ledger-capture': 'hash',
      'x-llm-ledger-metadata': '{"app":"x","n":1}',
    };
    expect(readClientContext(headers, 1000).context).toMatchObject({
      user: 'alice',
      session: 's',
      conversation: 'c',
      capture: 'hash',
      metadata: { app: 'x', n: 1 },
    });
  });

  it('names each bad header and what to send, and still gives ids', () => {
    const { context, problem } = readClientContext({ 'x-llm-ledger-user': 'a\u0007b', 'x-llm-ledger-metadata': '[1,2]' }, 1000);
    expect(problem).toBe(
      'x-llm-ledger-user must be 1 to 256 characters without control characters; x-llm-ledger-metadata must be a JSON object, e.g. {"app":"billing","ticket":"T-12"}',
    );
    expect(context.requestId).toBeTruthy();
    expect(context.user).toBeUndefined();
    expect(readClientContext({ 'x-llm-ledger-metadata': JSON.stringify({ big: 'x'.repeat(100) }) }, 50).problem).toBe(
      'x-llm-ledger-metadata must be at most 50 bytes of JSON',
    );
    expect(readClientContext({ 'x-llm-ledger-metadata': '{"n":[1e400]}' }, 50).problem).toMatch(/number too large to record/);
  });
});

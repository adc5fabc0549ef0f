import { awkwardFrames, jsonReply, sseFrame, type FakeReply } from './fake-reply.js';
import { FAKE_ANSWER, FAKE_ANTHROPIC_USAGE, FAKE_THINKING, FAKE_TOOL, fakeId, pieces, type Scenario } from './fake-scenarios.js';

type Body = Record<string, unknown>;

/** Anthropic's error types by status, as its API documents them. */
const ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  404: { type: 'not_found_error', message: 'Not found' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/** `{"type": "error", "error": {type, message}, "request_id"}`, with `retry-after` on a 429. */
export function anthropicError(status: number, message?: string): FakeReply {
  const error = ERRORS[status] ?? ERRORS[500]!;
  const headers: Record<string, string> = status === 429 ? { 'retry-after': '1', 'anthropic-ratelimit-requests-remaining': '0' } : {};
  return jsonReply(status, { type: 'error', error: message === undefined ? error : { ...error, message }, request_id: fakeId('req_') }, headers);
}

export function anthropicModels(): FakeReply {
  const data = ['claude-sonnet-4-6', 'claude-haiku-4-5'].map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' }));
  return jsonReply(200, { data, has_more: false, first_id: data[0]!.id, last_id: data[data.length - 1]!.id });
}

/** Answers `POST /v1/messages` for a scenario that produces an answer. */
export function anthropicReply(body: Body, scenario: Scenario): FakeReply {
  if (typeof body.max_tokens !== 'number') return anthropicError(400);
  const model = typeof body.model === 'string' ? body.model : 'claude-sonnet-4-6';
  const thinking = isThinkingEnabled(body);
  const tool = scenario === 'tool';
  if (body.stream !== true) return jsonReply(200, message(model, body, tool, thinking));
  const frames = streamEvents(model, body, tool, thinking).map((data) => sseFrame(data, data.type as string));
  if (scenario === 'stream-error') return { kind: 'sse', frames: [...frames.slice(0, 4), sseFrame({ type: 'error', error: ERRORS[529] }, 'error')] };
  if (scenario === 'malformed') frames.splice(1, 1, ...awkwardFrames(frames[1]!));
  return scenario === 'stall' ? { kind: 'sse', frames, stallAfter: 3 } : { kind: 'sse', frames };
}

function isThinkingEnabled(body: Body): boolean {
  const thinking = body.thinking as Record<string, unknown> | undefined;
  return thinking?.type === 'enabled' || thinking?.type === 'adaptive';
}

function toolName(body: Body): string {
  const first = Array.isArray(body.tools) ? (body.tools[0] as Record<string, unknown> | undefined) : undefined;
  return typeof first?.name === 'string' ? first.name : FAKE_TOOL.name;
}

/** Usage as Anthropic reports it: `input_tokens` excludes the cache reads and writes beside it. */
function usage(outputTokens: number, thinking: boolean) {
  const { input, cacheRead, cacheWrite, thinking: thinkingTokens } = FAKE_ANTHROPIC_USAGE;
  return {
    input_tokens: input,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: outputTokens,
    ...(thinking ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
    service_tier: 'standard',
  };
}

function content(body: Body, tool: boolean, thinking: boolean) {
  const blocks: Array<Record<string, unknown>> = [];
  if (thinking) blocks.push({ type: 'thinking', thinking: FAKE_THINKING, signature: 'fake-signature' });
  if (tool) {
    blocks.push({ type: 'text', text: "I'll check the weather." });
    blocks.push({ type: 'tool_use', id: fakeId('toolu_'), name: toolName(body), input: FAKE_TOOL.arguments });
  } else {
    blocks.push({ type: 'text', text: FAKE_ANSWER });
  }
  return blocks;
}

function message(model: string, body: Body, tool: boolean, thinking: boolean) {
  return {
    id: fakeId('msg_'),
    type: 'message',
    role: 'assistant',
    model,
    content: content(body, tool, thinking),
    stop_reason: tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: usage(FAKE_ANTHROPIC_USAGE.output, thinking),
  };
}

/**
 * The stream as Anthropic sends it: `message_start` with an empty shell and input usage (output
 * 1), a `ping`, per block `content_block_start` / deltas / `content_block_stop` (tool input as
 * `input_json_delta` fragments, thinking as `thinking_delta` then `signature_delta`),
 * `message_delta` with the stop reason and cumulative output usage, `message_stop`.
 */
function streamEvents(model: string, body: Body, tool: boolean, thinking: boolean): Array<Record<string, unknown>> {
  const shell = { ...message(model, body, tool, thinking), content: [], stop_reason: null, usage: usage(1, false) };
  const events: Array<Record<string, unknown>> = [{ type: 'message_start', message: shell }, { type: 'ping' }];
  content(body, tool, thinking).forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const part of pieces(FAKE_THINKING, 12)) events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: part } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'fake-signature' } });
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      // Spaced JSON, as the model writes it; a reader must not expect the compact form.
      for (const part of pieces(JSON.stringify(block.input, null, 1), 9))
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const part of pieces(String(block.text))) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } });
    }
    events.push({ type: 'content_block_stop', index });
  });
  const final = usage(FAKE_ANTHROPIC_USAGE.output, thinking);
  events.push({
    type: 'message_delta',
    delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: final.output_tokens, ...(thinking ? { output_tokens_details: final.output_tokens_details } : {}) },
  });
  events.push({ type: 'message_stop' });
  return events;
}

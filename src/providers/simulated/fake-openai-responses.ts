import { jsonReply, sseReply, type FakeReply } from './fake-reply.js';
import { FAKE_ANSWER, FAKE_OPENAI_USAGE, FAKE_TOOL, FAKE_TOOL_ARGUMENTS, fakeId, pieces, type Scenario } from './fake-scenarios.js';

/** The Responses API (`POST /v1/responses`): a response object, or its typed event stream. */
export function responsesReply(model: string, tool: boolean, stream: boolean, scenario: Scenario): FakeReply {
  return stream ? sseReply(responseEvents(model, tool), scenario, streamError, false) : jsonReply(200, response(model, tool, 'completed'));
}

/** The API's `error` event, sent when a stream fails part-way. */
const streamError = {
  event: 'error',
  data: { type: 'error', code: 'server_error', message: 'The server had an error while processing your request.', param: null, sequence_number: 3 },
};

function responsesUsage() {
  const { prompt, cached, completion: output, reasoning } = FAKE_OPENAI_USAGE;
  return {
    input_tokens: prompt,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: prompt + output,
  };
}

function messageItem(id: string, text: string, status: string) {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: text === '' && status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

function functionItem(id: string, callId: string, args: string, status: string) {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name: FAKE_TOOL.name };
}

interface ResponseIds {
  id: string;
  itemId: string;
  callId: string;
  createdAt: number;
}

function response(model: string, tool: boolean, status: 'in_progress' | 'completed', ids: ResponseIds = newIds()) {
  const done = status === 'completed';
  const output = done
    ? [tool ? functionItem(ids.itemId, ids.callId, FAKE_TOOL_ARGUMENTS, 'completed') : messageItem(ids.itemId, FAKE_ANSWER, 'completed')]
    : [];
  return {
    id: ids.id,
    object: 'response',
    created_at: ids.createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: done ? responsesUsage() : null,
    user: null,
    metadata: {},
  };
}

function newIds(): ResponseIds {
  return { id: fakeId('resp_'), itemId: fakeId(''), callId: fakeId('call_'), createdAt: Math.floor(Date.now() / 1000) };
}

/**
 * Responses API events in the order the API sends them, each with its `type` both as the SSE
 * `event:` name and inside the data, and a `sequence_number` counting from 0.
 */
function responseEvents(model: string, tool: boolean): Array<{ data: unknown; event: string }> {
  const ids = newIds();
  ids.itemId = tool ? `fc_${ids.itemId}` : `msg_${ids.itemId}`;
  const events: Array<Record<string, unknown>> = [
    { type: 'response.created', response: response(model, tool, 'in_progress', ids) },
    { type: 'response.in_progress', response: response(model, tool, 'in_progress', ids) },
  ];
  if (tool) {
    events.push({ type: 'response.output_item.added', output_index: 0, item: functionItem(ids.itemId, ids.callId, '', 'in_progress') });
    for (const part of pieces(FAKE_TOOL_ARGUMENTS, 7))
      events.push({ type: 'response.function_call_arguments.delta', item_id: ids.itemId, output_index: 0, delta: part });
    events.push({ type: 'response.function_call_arguments.done', item_id: ids.itemId, output_index: 0, arguments: FAKE_TOOL_ARGUMENTS });
    events.push({ type: 'response.output_item.done', output_index: 0, item: functionItem(ids.itemId, ids.callId, FAKE_TOOL_ARGUMENTS, 'completed') });
  } else {
    const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    events.push({ type: 'response.output_item.added', output_index: 0, item: messageItem(ids.itemId, '', 'in_progress') });
    events.push({ type: 'response.content_part.added', item_id: ids.itemId, output_index: 0, content_index: 0, part });
    for (const delta of pieces(FAKE_ANSWER))
      events.push({ type: 'response.output_text.delta', item_id: ids.itemId, output_index: 0, content_index: 0, delta, logprobs: [] });
    events.push({ type: 'response.output_text.done', item_id: ids.itemId, output_index: 0, content_index: 0, text: FAKE_ANSWER, logprobs: [] });
    events.push({ type: 'response.content_part.done', item_id: ids.itemId, output_index: 0, content_index: 0, part: { ...part, text: FAKE_ANSWER } });
    events.push({ type: 'response.output_item.done', output_index: 0, item: messageItem(ids.itemId, FAKE_ANSWER, 'completed') });
  }
  events.push({ type: 'response.completed', response: response(model, tool, 'completed', ids) });
  return events.map((data, sequence) => ({ event: data.type as string, data: { ...data, sequence_number: sequence } }));
}

import { jsonReply, sseReply, type FakeReply } from './fake-reply.js';
import { responsesReply } from './fake-openai-responses.js';
import {
  FAKE_ANSWER,
  FAKE_EMBEDDING_TOKENS_PER_INPUT,
  FAKE_OPENAI_USAGE,
  FAKE_TOOL,
  FAKE_TOOL_ARGUMENTS,
  fakeId,
  pieces,
  type Scenario,
} from './fake-scenarios.js';

type Body = Record<string, unknown>;

/** OpenAI's error bodies, as the API sends them: `{"error": {message, type, param, code}}`. */
const ERRORS: Record<number, { message: string; type: string | null; param: string | null; code: string | null }> = {
  400: {
    message: "Invalid value for 'temperature': expected a number between 0 and 2.",
    type: 'invalid_request_error',
    param: 'temperature',
    code: 'invalid_value',
  },
  401: {
    message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
  404: { message: 'The model does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' },
  429: { message: 'Rate limit reached for requests. Please try again in 1s.', type: 'requests', param: null, code: 'rate_limit_exceeded' },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
};

export function openAIError(status: number, message?: string): FakeReply {
  const error = ERRORS[status] ?? ERRORS[500]!;
  const headers: Record<string, string> = status === 429 ? { 'retry-after': '1', 'x-ratelimit-remaining-requests': '0' } : {};
  return jsonReply(status, { error: message === undefined ? error : { ...error, message } }, headers);
}

/** Answers one OpenAI request for a scenario that produces an answer (errors, delays and stalls are the server's). */
export function openAIReply(path: string, body: Body, scenario: Scenario): FakeReply {
  const model = typeof body.model === 'string' ? body.model : 'gpt-4o';
  const stream = body.stream === true;
  const tool = scenario === 'tool';
  switch (path) {
    case '/v1/chat/completions':
      return stream ? sseReply(chatChunks(model, body, tool), scenario, chatStreamError, true) : jsonReply(200, chatCompletion(model, body, tool));
    case '/v1/responses':
      return responsesReply(model, tool, stream, scenario);
    case '/v1/completions':
      return stream ? sseReply(completionChunks(model, body), scenario, chatStreamError, true) : jsonReply(200, completion(model));
    case '/v1/embeddings':
      return jsonReply(200, embeddings(model, body));
    default:
      return openAIError(404, `Unknown request URL: POST ${path}.`);
  }
}

export function openAIModels(): FakeReply {
  const data = ['gpt-4o', 'gpt-4o-mini', 'o3', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: 1_715_367_049, owned_by: 'system' }));
  return jsonReply(200, { object: 'list', data });
}

/** An error inside a chat or completions stream: a data-only event with an `error` object. */
const chatStreamError = {
  data: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
};

function chatUsage() {
  const { prompt, cached, completion, reasoning } = FAKE_OPENAI_USAGE;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** The request's first function tool, or the fake's own `get_weather`. */
function toolName(body: Body): string {
  const first = Array.isArray(body.tools) ? (body.tools[0] as Record<string, unknown> | undefined) : undefined;
  const fn = first?.function as Record<string, unknown> | undefined;
  const name = fn?.name ?? first?.name;
  return typeof name === 'string' ? name : FAKE_TOOL.name;
}

function chatCompletion(model: string, body: Body, tool: boolean) {
  const message = tool
    ? {
        role: 'assistant',
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: [{ id: fakeId('call_'), type: 'function', function: { name: toolName(body), arguments: FAKE_TOOL_ARGUMENTS } }],
      }
    : { role: 'assistant', content: FAKE_ANSWER, refusal: null, annotations: [] };
  return {
    id: fakeId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: tool ? 'tool_calls' : 'stop' }],
    usage: chatUsage(),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

/**
 * Chat chunks as OpenAI sends them: a first chunk with the role, content (or tool-call argument)
 * fragments, a last chunk with `finish_reason`, and with `stream_options.include_usage` every
 * chunk carries `usage: null` and one more chunk with empty `choices` carries the usage.
 */
function chatChunks(model: string, body: Body, tool: boolean): Array<{ data: unknown }> {
  const id = fakeId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = (body.stream_options as Record<string, unknown> | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    data: {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    },
  });
  const choice = (delta: unknown, finish: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
  const chunks = [];
  if (tool) {
    chunks.push(
      chunk([
        choice({
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: fakeId('call_'), type: 'function', function: { name: toolName(body), arguments: '' } }],
          refusal: null,
        }),
      ]),
    );
    for (const part of pieces(FAKE_TOOL_ARGUMENTS, 7)) chunks.push(chunk([choice({ tool_calls: [{ index: 0, function: { arguments: part } }] })]));
  } else {
    chunks.push(chunk([choice({ role: 'assistant', content: '', refusal: null })]));
    for (const part of pieces(FAKE_ANSWER)) chunks.push(chunk([choice({ content: part })]));
  }
  chunks.push(chunk([choice({}, tool ? 'tool_calls' : 'stop')]));
  if (includeUsage) chunks.push(chunk([], { usage: chatUsage() }));
  return chunks;
}

function completion(model: string) {
  const { prompt, completion: completionTokens } = FAKE_OPENAI_USAGE;
  return {
    id: fakeId('cmpl-'),
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ text: FAKE_ANSWER, index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
  };
}

function completionChunks(model: string, body: Body): Array<{ data: unknown }> {
  const id = fakeId('cmpl-');
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = (body.stream_options as Record<string, unknown> | undefined)?.include_usage === true;
  const chunk = (text: string, finish: string | null) => ({
    data: { id, object: 'text_completion', created, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] },
  });
  const chunks: Array<{ data: unknown }> = pieces(FAKE_ANSWER).map((part) => chunk(part, null));
  chunks.push(chunk('', 'stop'));
  if (includeUsage) {
    const { prompt, completion: completionTokens } = FAKE_OPENAI_USAGE;
    chunks.push({
      data: {
        id,
        object: 'text_completion',
        created,
        model,
        choices: [],
        usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
      },
    });
  }
  return chunks;
}

function embeddings(model: string, body: Body) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 8;
  // The official SDK asks for base64 (little-endian float32) unless told otherwise, and decodes it.
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((input, index) => {
    const vector = Array.from({ length: dimensions }, (_, at) => Math.round(Math.sin(JSON.stringify(input).length + at) * 1e4) / 1e4);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
  });
  const tokens = inputs.length * FAKE_EMBEDDING_TOKENS_PER_INPUT;
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

import type { ProviderAdapter, RequestFacts, ResponseFacts, StreamAccumulator } from './types.js';
import { compact, isObject, objectAt, readJson, stringAt } from './json-fields.js';
import { promptText } from './texts.js';
import { promptSlots } from './text-slots.js';
import { NO_OUTPUT_TOKEN_LIMIT } from './output-token-limit.js';
import { completionUsage } from './openai-usage.js';
import { readUpstreamError } from './errors.js';
import { StreamBookkeeping } from './stream-bookkeeping.js';
import { answerProblem, invalidAnswer, invalidStream, type AnswerShape, type StreamShape } from './answer-validity.js';

/** An embedding list as the validity check knows it (see answer-validity.ts); the endpoint never streams, so no stream is valid. */
const EMBEDDINGS_ANSWER: AnswerShape = { name: 'OpenAI embedding list', requires: 'a "data" array', isAnswer: (body) => Array.isArray(body.data) };
const EMBEDDINGS_STREAM: Pick<StreamShape, 'name'> = { name: 'OpenAI embeddings answer' };

/**
 * OpenAI embeddings: `POST /v1/embeddings`. `input` is a string, a list of strings, or tokens (a
 * list of numbers, or of lists). Only strings are text worth digesting; token ids are not. The
 * answer is vectors, not text: only usage (`prompt_tokens`; there are no output tokens) is kept.
 */
export const openAIEmbeddingsAdapter: ProviderAdapter = {
  provider: 'openai',
  endpoint: 'embeddings',
  path: '/v1/embeddings',
  describeRequest(raw: unknown): RequestFacts {
    const body = readJson(raw);
    return compact({ model: stringAt(body, 'model'), stream: false, texts: compact({ input: promptText(isObject(body) ? body.input : undefined) }) });
  },
  describeResponse(raw: unknown, status: number): ResponseFacts {
    const body = readJson(raw);
    if (status >= 400 || objectAt(body, 'error')) return { usage: {}, error: readUpstreamError(body, status) };
    const problem = answerProblem(EMBEDDINGS_ANSWER, raw, body);
    if (problem !== undefined) return { usage: {}, error: invalidAnswer(EMBEDDINGS_ANSWER, status, problem) };
    return compact({ model: stringAt(body, 'model'), usage: completionUsage(objectAt(body, 'usage')) });
  },
  streamAccumulator: (options) => new NoStreamAccumulator(new StreamBookkeeping(options)),
  requestTexts: (body) => promptSlots(body, 'input'),
  // Vectors are not text, and embeddings never stream.
  responseTexts: () => [],
  streamTexts: () => [],
  outputTokenLimit: NO_OUTPUT_TOKEN_LIMIT,
};

/** Embeddings never stream: any event offered is one the adapter cannot read, and a stream is never a valid answer. */
class NoStreamAccumulator implements StreamAccumulator {
  constructor(private readonly book: StreamBookkeeping) {}
  push(): void {
    this.book.malformed();
  }
  end(): ResponseFacts {
    return { ...this.result(), error: invalidStream(EMBEDDINGS_STREAM, 'embeddings are never streamed') };
  }
  done(): void {
    this.book.sentinel();
    this.book.completed();
  }
  malformed(): void {
    this.book.malformed();
  }
  result(): ResponseFacts {
    return { usage: {}, stream: this.book.facts() };
  }
}

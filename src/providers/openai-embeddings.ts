import type { ProviderAdapter, RequestFacts, ResponseFacts, StreamAccumulator } from './types.js';
import { compact, isObject, objectAt, readJson, stringAt } from './json-fields.js';
import { promptText } from './texts.js';
import { promptSlots } from './text-slots.js';
import { NO_OUTPUT_TOKEN_LIMIT } from './output-token-limit.js';
import { completionUsage } from './openai-usage.js';
import { readUpstreamError } from './errors.js';
import { StreamBookkeeping } from './stream-bookkeeping.js';

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
    return compact({ model: stringAt(body, 'model'), usage: completionUsage(objectAt(body, 'usage')) });
  },
  streamAccumulator: (options) => new NoStreamAccumulator(new StreamBookkeeping(options)),
  requestTexts: (body) => promptSlots(body, 'input'),
  // Vectors are not text, and embeddings never stream.
  responseTexts: () => [],
  streamTexts: () => [],
  outputTokenLimit: NO_OUTPUT_TOKEN_LIMIT,
};

/** Embeddings never stream: any event offered is one the adapter cannot read. */
class NoStreamAccumulator implements StreamAccumulator {
  constructor(private readonly book: StreamBookkeeping) {}
  push(): void {
    this.book.malformed();
  }
  done(): void {
    this.book.completed();
  }
  malformed(): void {
    this.book.malformed();
  }
  result(): ResponseFacts {
    return { usage: {}, stream: this.book.facts() };
  }
}


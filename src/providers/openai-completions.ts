import type { AccumulatorOptions, ProviderAdapter, RequestFacts, ResponseFacts } from './types.js';
import { arrayAt, booleanAt, compact, countAt, isObject, objectAt, readJson, stringAt } from './json-fields.js';
import { assembleOutput, promptText } from './texts.js';
import { completionUsage } from './openai-usage.js';
import { readUpstreamError } from './errors.js';
import { JsonStreamAccumulator } from './stream-bookkeeping.js';
import type { JsonObject } from './json-fields.js';
import { fieldSlots, onChannel, promptSlots } from './text-slots.js';
import { outputTokenFields } from './output-token-limit.js';
import { answerProblem, invalidAnswer, objectOrArray, type AnswerShape, type StreamShape } from './answer-validity.js';

/** A completion, and a stream of its chunks, as the validity check knows them (see answer-validity.ts). */
const COMPLETION_ANSWER: AnswerShape = {
  name: 'OpenAI completion',
  requires: '"object": "text_completion" or a "choices" array',
  isAnswer: objectOrArray('text_completion', 'choices'),
};
const COMPLETION_STREAM: StreamShape = {
  name: 'OpenAI completion stream',
  event: 'text_completion event',
  isEvent: objectOrArray('text_completion', 'choices'),
};

/**
 * OpenAI legacy completions: `POST /v1/completions`. A `prompt` (string, strings, or token ids)
 * rather than messages, and `choices[].text` rather than a message. Streams send the same shape
 * chunk by chunk, usage in a last chunk when `stream_options.include_usage` is set, then `[DONE]`.
 */
export const openAICompletionsAdapter: ProviderAdapter = {
  provider: 'openai',
  endpoint: 'completions',
  path: '/v1/completions',
  describeRequest(raw: unknown): RequestFacts {
    const body = readJson(raw);
    return compact({
      model: stringAt(body, 'model'),
      stream: booleanAt(body, 'stream') === true,
      texts: compact({ input: promptText(isObject(body) ? body.prompt : undefined) }),
    });
  },
  describeResponse(raw: unknown, status: number): ResponseFacts {
    const body = readJson(raw);
    if (status >= 400 || objectAt(body, 'error')) return { usage: {}, error: readUpstreamError(body, status) };
    const problem = answerProblem(COMPLETION_ANSWER, raw, body);
    if (problem !== undefined) return { usage: {}, error: invalidAnswer(COMPLETION_ANSWER, status, problem) };
    const choices = [...(arrayAt(body, 'choices') ?? [])].sort((a, b) => (countAt(a, 'index') ?? 0) - (countAt(b, 'index') ?? 0));
    return compact({
      model: stringAt(body, 'model'),
      usage: completionUsage(objectAt(body, 'usage')),
      stopReason: stringAt(choices[0], 'finish_reason'),
      output: assembleOutput(
        choices.map((choice) => stringAt(choice, 'text') ?? ''),
        [],
      ),
    });
  },
  streamAccumulator: (options?: AccumulatorOptions) => new CompletionsStreamAccumulator(options),
  requestTexts: (body) => promptSlots(body, 'prompt'),
  responseTexts: (body) => (arrayAt(body, 'choices') ?? []).flatMap((choice) => fieldSlots(choice, 'text')),
  // A chunk has the plain answer's shape: `choices[i].text` is a delta of choice i.
  streamTexts: (event) =>
    (arrayAt(event.data, 'choices') ?? []).flatMap((choice) => onChannel(fieldSlots(choice, 'text'), `${countAt(choice, 'index') ?? 0}`, 'delta')),
  outputTokenLimit: outputTokenFields('max_tokens'),
};

class CompletionsStreamAccumulator extends JsonStreamAccumulator {
  readonly #texts = new Map<number, string>();
  #finishReason: string | undefined;
  #model: string | undefined;
  #usage: unknown;
  #error: ResponseFacts['error'];

  constructor(options?: AccumulatorOptions) {
    super(COMPLETION_STREAM, options);
  }

  protected override read(chunk: JsonObject): void {
    if (isObject(chunk.error)) {
      this.#error = readUpstreamError(chunk, undefined);
      return;
    }
    this.#model ??= stringAt(chunk, 'model');
    if (isObject(chunk.usage)) this.#usage = chunk.usage;
    for (const choice of arrayAt(chunk, 'choices') ?? []) {
      const index = countAt(choice, 'index') ?? 0;
      const text = stringAt(choice, 'text') ?? '';
      if (text) this.book.content();
      this.#texts.set(index, (this.#texts.get(index) ?? '') + text);
      if (index === 0) this.#finishReason = stringAt(choice, 'finish_reason') ?? this.#finishReason;
    }
  }

  override result(): ResponseFacts {
    const texts = [...this.#texts.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
    return compact({
      model: this.#model,
      usage: completionUsage(this.#usage),
      stopReason: this.#finishReason,
      output: assembleOutput(texts, []),
      error: this.#error,
      stream: this.book.facts(),
    });
  }
}

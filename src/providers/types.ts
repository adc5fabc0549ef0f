/** Wire formats the adapters understand. Each has its own adapter file. */
export type ProviderName = 'openai' | 'anthropic';
export type EndpointName = 'chat.completions' | 'responses' | 'embeddings' | 'completions' | 'messages';

/**
 * Token counts as the provider reported them, mapped to one meaning:
 * - `inputTokens`: every prompt token, cached or not (Anthropic's `input_tokens` excludes cache
 *   reads, so its adapter adds them back; OpenAI's `prompt_tokens` already includes them);
 * - `cachedTokens`: the part of `inputTokens` read from the prompt cache;
 * - `outputTokens`: every generated token, reasoning/thinking included (both providers bill
 *   reasoning as output and count it in their output figure);
 * - `reasoningTokens`: the part of `outputTokens` spent on reasoning/thinking;
 * - `cacheWriteTokens`: the part of `inputTokens` written to the prompt cache, which Anthropic
 *   bills above the plain input rate. The record has no field for it; pricing uses it.
 * A count the provider did not report stays undefined: unknown is not zero.
 */
export interface NormalisedUsage {
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  cacheWriteTokens?: number;
}

/** Texts the capture policy digests (or stores). They never enter the envelope themselves. */
export interface CallTexts {
  system?: string;
  input?: string;
  output?: string;
}

/**
 * An upstream error: its HTTP status (absent for an error event inside a 200 stream), and its
 * type, code and message as the upstream sent them, each absent when it did not. The message may
 * quote the request, so it goes through the capture policy; it is never part of the envelope.
 *
 * Or an answer that is not valid in its wire format (see answer-validity.ts): `type` is then
 * `invalid_response` and `reason` says what is wrong in the adapter's own words, which quote
 * nothing of the body; there is no message.
 */
export interface CallError {
  status?: number;
  type?: string;
  code?: string;
  message?: string;
  /** The adapter's account of an invalid answer (`answer is not a valid OpenAI chat completion: not JSON`); it becomes the record's `error`. */
  reason?: string;
}

/** What the request body says, before any answer. */
export interface RequestFacts {
  model?: string;
  stream: boolean;
  messageCount?: number;
  toolsProvided?: number;
  texts: Pick<CallTexts, 'system' | 'input'>;
}

/** Facts found only in a stream, never in a plain response. */
export interface StreamFacts {
  /** Milliseconds from the accumulator's start to the first content delta. */
  ttftMs?: number;
  /** True once the stream's own end marker arrived (`[DONE]`, `message_stop`, `response.completed`, ...). */
  completed: boolean;
  /** SSE events whose data was not valid JSON, or had a shape the adapter could not read. */
  malformedEvents: number;
}

/** What the response body (or the stream, once accumulated) says. */
export interface ResponseFacts {
  /** The model that answered, which may be more specific than the one requested. */
  model?: string;
  usage: NormalisedUsage;
  stopReason?: string;
  toolCalls?: number;
  output?: string;
  error?: CallError;
  stream?: StreamFacts;
}

/** One call, request and answer together, in the ledger's vocabulary. */
export interface NormalisedCall {
  provider: ProviderName;
  endpoint: EndpointName;
  model?: string;
  stream: boolean;
  messageCount?: number;
  toolsProvided?: number;
  toolCalls?: number;
  stopReason?: string;
  usage: NormalisedUsage;
  ttftMs?: number;
  error?: CallError;
  texts: CallTexts;
  /** Present for streamed calls: whether the stream ended properly and how many events were unreadable. */
  streamCompleted?: boolean;
  malformedEvents?: number;
}

/** One parsed SSE event handed to an accumulator: its `event:` name, if any, and its JSON data. */
export interface StreamEvent {
  event?: string;
  data: unknown;
}

/**
 * Collects the facts of one streamed answer, event by event, without keeping the events. The
 * gateway feeds it from the SSE parser; the SDK wrappers feed it the SDK's own parsed events.
 */
export interface StreamAccumulator {
  /** One event. Never throws: an event it cannot read is counted as malformed. */
  push(event: StreamEvent): void;
  /** The `data: [DONE]` sentinel that ends OpenAI streams. */
  done(): void;
  /** An event whose data was not JSON at all (counted by the SSE layer). */
  malformed(): void;
  /** The facts so far; callable at any time, e.g. when a client disconnects mid-stream. */
  result(): ResponseFacts;
  /**
   * The stream ended (it was not cut off): the facts, with an `invalid_response` error when the
   * stream held no event of the format and no error of its own (see answer-validity.ts).
   */
  end(): ResponseFacts;
}

export interface AccumulatorOptions {
  /** Clock in milliseconds; defaults to `performance.now`. */
  now?: () => number;
  /** When the call started on that clock; defaults to the moment the accumulator is made. */
  startedAt?: number;
}

/**
 * A text inside a parsed wire body that the model reads or wrote. Governance policies inspect it
 * and may replace it (redaction); `set` writes the replacement into the parsed body in place, so
 * the body re-serialised is what goes on.
 */
export interface TextSlot {
  /** The text when the slot was read; `set` does not change it. */
  readonly text: string;
  /** Writes exactly where the text was: a string content stays a string, a part keeps its other fields. */
  set(text: string): void;
}

/** Output text carried by one stream event. */
export interface StreamTextSlot extends TextSlot {
  /**
   * The part of the answer this text belongs to (a choice, a content block, an output item's
   * content part), e.g. `0` or `1:0`. Deltas of one channel concatenate to that part's text.
   */
  readonly channel: string;
  /**
   * `delta`: a piece appended to the channel's text. `whole`: the channel's entire text as of this
   * event, repeated by an opening or closing event (the Responses API's `response.output_text.done`,
   * `response.completed`; normally empty in `response.content_part.added` or Anthropic's
   * `content_block_start`). A redacting gateway must replace it too, or it leaks the original.
   */
  readonly kind: 'delta' | 'whole';
}

/** Where a request caps the tokens the model may generate. */
export interface OutputTokenLimit {
  /** The cap the request sets, or undefined when it sets none. */
  read(body: Record<string, unknown>): number | undefined;
  /**
   * Sets the cap, as given (a policy that only lowers caps compares with `read` first): in every
   * field the client filled (chat completions may carry two), else in this format's current field.
   */
  write(body: Record<string, unknown>, limit: number): void;
}

/** One wire format: what its requests, answers and streams say, and where their texts and output cap lie. */
export interface ProviderAdapter {
  readonly provider: ProviderName;
  readonly endpoint: EndpointName;
  /** URL path of the endpoint, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Reads a request body (parsed JSON, or its bytes/text). Never throws on odd shapes. */
  describeRequest(body: unknown): RequestFacts;
  /**
   * Reads a complete, non-streamed response body with its HTTP status. A body below 400 that is
   * not an answer of the format (see answer-validity.ts) gives an `invalid_response` error.
   */
  describeResponse(body: unknown, status: number): ResponseFacts;
  streamAccumulator(options?: AccumulatorOptions): StreamAccumulator;
  /**
   * Texts of a parsed request body that the model reads, in body order: system prompt or
   * instructions, each text part of each message, tool results given as text, prompts. Tool-call
   * arguments, images and token-id prompts are not included. Like the other readers below, never
   * throws: a field of the wrong type gives no slot.
   */
  requestTexts(body: Record<string, unknown>): TextSlot[];
  /** Output texts of a parsed, complete (non-streamed) answer: message text and refusals, not tool-call arguments. */
  responseTexts(body: Record<string, unknown>): TextSlot[];
  /** Output texts one parsed stream event carries (`event.data` is rewritten in place by `set`). */
  streamTexts(event: StreamEvent): StreamTextSlot[];
  readonly outputTokenLimit: OutputTokenLimit;
}

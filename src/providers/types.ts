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

/** An upstream error: HTTP status (absent for an error event inside a 200 stream), type, message. */
export interface CallError {
  status?: number;
  type: string;
  message: string;
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
}

export interface AccumulatorOptions {
  /** Clock in milliseconds; defaults to `performance.now`. */
  now?: () => number;
  /** When the call started on that clock; defaults to the moment the accumulator is made. */
  startedAt?: number;
}

/** One wire format: the same three questions asked of every provider. */
export interface ProviderAdapter {
  readonly provider: ProviderName;
  readonly endpoint: EndpointName;
  /** URL path of the endpoint, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Reads a request body (parsed JSON, or its bytes/text). Never throws on odd shapes. */
  describeRequest(body: unknown): RequestFacts;
  /** Reads a complete, non-streamed response body with its HTTP status. */
  describeResponse(body: unknown, status: number): ResponseFacts;
  streamAccumulator(options?: AccumulatorOptions): StreamAccumulator;
}

export type {
  AccumulatorOptions,
  CallError,
  CallTexts,
  EndpointName,
  NormalisedCall,
  NormalisedUsage,
  OutputTokenLimit,
  ProviderAdapter,
  ProviderName,
  RequestFacts,
  ResponseFacts,
  StreamAccumulator,
  StreamEvent,
  StreamFacts,
  StreamTextSlot,
  TextSlot,
} from './types.js';
export { ADAPTERS, adapterForPath } from './adapters.js';
export { openAIChatAdapter } from './openai-chat.js';
export { openAIResponsesAdapter } from './openai-responses.js';
export { openAIEmbeddingsAdapter } from './openai-embeddings.js';
export { openAICompletionsAdapter } from './openai-completions.js';
export { anthropicMessagesAdapter } from './anthropic-messages.js';
export { SseDecoder, type SseEvent, type SseHandlers, type SseStats, type SseDecoderOptions } from './sse.js';
export { observeStream, type StreamObserver } from './stream-observer.js';
export { normaliseCall, toRecordInput } from './normalise.js';
export { costUsd, createPricing, DEFAULT_PRICES, PricingError, type ModelPrice, type Pricing, type PriceTable } from './pricing.js';

import type { ProviderAdapter } from './types.js';
import { openAIChatAdapter } from './openai-chat.js';
import { openAIResponsesAdapter } from './openai-responses.js';
import { openAIEmbeddingsAdapter } from './openai-embeddings.js';
import { openAICompletionsAdapter } from './openai-completions.js';
import { anthropicMessagesAdapter } from './anthropic-messages.js';

/** Every wire format the ledger understands. */
export const ADAPTERS: readonly ProviderAdapter[] = [
  openAIChatAdapter,
  openAIResponsesAdapter,
  openAIEmbeddingsAdapter,
  openAICompletionsAdapter,
  anthropicMessagesAdapter,
];

const byPath = new Map(ADAPTERS.map((adapter) => [adapter.path, adapter]));

/**
 * The adapter for a request path such as `/v1/chat/completions`. A query string and a trailing
 * slash are ignored; a path with a prefix before `/v1` (`/openai/v1/...`) is not guessed at.
 */
export function adapterForPath(path: string): ProviderAdapter | undefined {
  const bare = path.split('?')[0]!.replace(/\/+$/, '');
  return byPath.get(bare);
}

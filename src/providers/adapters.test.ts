import { describe, expect, it } from 'vitest';
import { ADAPTERS, adapterForPath } from './adapters.js';

describe('adapterForPath', () => {
  it('finds the adapter for each gateway endpoint', () => {
    expect(adapterForPath('/v1/chat/completions')?.endpoint).toBe('chat.completions');
    expect(adapterForPath('/v1/responses')?.endpoint).toBe('responses');
    expect(adapterForPath('/v1/embeddings')?.endpoint).toBe('embeddings');
    expect(adapterForPath('/v1/completions')?.endpoint).toBe('completions');
    expect(adapterForPath('/v1/messages')?.provider).toBe('anthropic');
  });

  it('ignores a query string and trailing slash, and guesses nothing else', () => {
    expect(adapterForPath('/v1/messages/?beta=true')?.endpoint).toBe('messages');
    expect(adapterForPath('/v1/models')).toBeUndefined();
    expect(adapterForPath('/openai/v1/chat/completions')).toBeUndefined();
  });

  it('has one adapter per path', () => {
    expect(new Set(ADAPTERS.map((adapter) => adapter.path)).size).toBe(ADAPTERS.length);
  });
});

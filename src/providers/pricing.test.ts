import { describe, expect, it } from 'vitest';
import { costUsd, createPricing, DEFAULT_PRICES, PricingError } from './pricing.js';

describe('costUsd', () => {
  it('prices plain input and output per million tokens', () => {
    // gpt-4o: $2.50 in, $10 out.
    expect(costUsd('gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(12.5);
    expect(costUsd('gpt-4o', { inputTokens: 1000, outputTokens: 500 })).toBe(0.0075);
  });

  it('prices OpenAI cached tokens at the cached rate, as the part of prompt tokens they are', () => {
    // 1,000 prompt tokens of which 800 cached: 200 x 2.50 + 800 x 1.25 = 1,500 per million.
    expect(costUsd('gpt-4o', { inputTokens: 1000, cachedTokens: 800, outputTokens: 0 })).toBe(0.0015);
  });

  it('does not charge OpenAI reasoning tokens twice: they are inside completion tokens', () => {
    // o3: $2 in, $8 out. 651 completion tokens, 512 of them reasoning, cost 651 x 8, not (651 + 512) x 8.
    expect(costUsd('o3', { inputTokens: 0, outputTokens: 651, reasoningTokens: 512 })).toBe(0.005208);
  });

  it('does not charge Anthropic thinking twice either, and prices cache reads and writes apart', () => {
    // claude-sonnet-4-6: $3 in, $3.75 cache write, $0.30 cache read, $15 out.
    // Normalised input 1,709 = 21 uncached + 1,500 read + 188 written.
    const cost = costUsd('claude-sonnet-4-6', { inputTokens: 1709, cachedTokens: 1500, cacheWriteTokens: 188, outputTokens: 393, reasoningTokens: 200 });
    // 21 x 3 + 1,500 x 0.30 + 188 x 3.75 + 393 x 15 = 7,113 per million; thinking adds nothing.
    expect(cost).toBe(0.007113);
  });

  it('prices dated snapshots and -latest aliases like their family', () => {
    expect(costUsd('gpt-4o-2024-08-06', { inputTokens: 1000, outputTokens: 0 })).toBe(costUsd('gpt-4o', { inputTokens: 1000, outputTokens: 0 }));
    expect(costUsd('claude-sonnet-4-5-20250929', { inputTokens: 1000 })).toBe(0.003);
    // A snapshot with its own price keeps it.
    expect(costUsd('gpt-4o-2024-05-13', { inputTokens: 1000 })).toBe(0.005);
  });

  it('prices embeddings by input alone', () => {
    expect(costUsd('text-embedding-3-small', { inputTokens: 16 })).toBe(3.2e-7);
  });

  it('returns undefined, not 0, for an unknown model or a call without any token counts', () => {
    expect(costUsd('my-local-llama', { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
    expect(costUsd(undefined, { inputTokens: 10 })).toBeUndefined();
    expect(costUsd('gpt-4o', {})).toBeUndefined();
  });

  it('never goes negative when counts disagree (more cached than input)', () => {
    expect(costUsd('gpt-4o', { inputTokens: 10, cachedTokens: 50, outputTokens: 0 })).toBe(1.25e-5);
  });

  it('has sane prices in the built-in table', () => {
    for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
      expect(price.input, model).toBeGreaterThan(0);
      expect(price.output, model).toBeGreaterThanOrEqual(0);
      expect(price.cachedInput ?? price.input, model).toBeLessThanOrEqual(price.input);
    }
  });
});

describe('createPricing', () => {
  it('lays overrides over the defaults: a single price, or a whole new model', () => {
    const pricing = createPricing({ 'gpt-4o': { output: 20 }, 'my-local-llama': { input: 0, output: 0 } });
    expect(pricing.costUsd('gpt-4o', { inputTokens: 0, outputTokens: 1_000_000 })).toBe(20);
    expect(pricing.costUsd('gpt-4o', { inputTokens: 1_000_000, cachedTokens: 1_000_000 })).toBe(1.25);
    expect(pricing.costUsd('my-local-llama', { inputTokens: 5000, outputTokens: 5000 })).toBe(0);
    // The defaults themselves are untouched.
    expect(costUsd('gpt-4o', { inputTokens: 0, outputTokens: 1_000_000 })).toBe(10);
  });

  it('adds reasoning on top only for a provider that reports it beside the output count', () => {
    const pricing = createPricing({ 'gemini-compat': { input: 1, output: 4, reasoningIncludedInOutput: false } });
    expect(pricing.costUsd('gemini-compat', { inputTokens: 0, outputTokens: 100, reasoningTokens: 50 })).toBe(0.0006);
  });

  it('prices reasoning at its own rate when one is set, still inside the output count', () => {
    const pricing = createPricing({ o3: { reasoning: 4 } });
    // 100 output of which 60 reasoning: 40 x 8 + 60 x 4.
    expect(pricing.costUsd('o3', { outputTokens: 100, reasoningTokens: 60 })).toBe(0.00056);
  });

  it('refuses bad overrides with an error naming the model and field', () => {
    expect(() => createPricing({ 'gpt-4o': { output: -1 } })).toThrow(PricingError);
    expect(() => createPricing({ 'gpt-4o': { output: -1 } })).toThrow(/pricing for "gpt-4o": output must be a price/);
    expect(() => createPricing({ 'new-model': { input: 1 } })).toThrow(/needs both input and output/);
    expect(() => createPricing({ 'gpt-4o': { outptu: 1 } as never })).toThrow(/unknown field "outptu"/);
  });
});

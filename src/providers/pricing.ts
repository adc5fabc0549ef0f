import type { NormalisedUsage } from './types.js';

/**
 * Prices of one model in USD per million tokens. `cachedInput` applies to prompt tokens read from
 * the cache and `cacheWrite` to prompt tokens written to it (both default to `input`).
 * `reasoning` defaults to `output`: both OpenAI and Anthropic bill reasoning/thinking as output.
 * `reasoningIncludedInOutput` (default true) says the provider's output count already contains
 * the reasoning tokens, as OpenAI's `completion_tokens` and Anthropic's `output_tokens` do; set it
 * false only for a provider that reports reasoning beside the output count.
 */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
  reasoning?: number;
  reasoningIncludedInOutput?: boolean;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

const openai = (input: number, cachedInput: number | undefined, output: number): ModelPrice =>
  cachedInput === undefined ? { input, output } : { input, cachedInput, output };
// Anthropic's cache write (5-minute) costs 1.25x input and a cache read 0.1x, per its pricing page.
const anthropic = (input: number, cacheWrite: number, cachedInput: number, output: number): ModelPrice => ({ input, cacheWrite, cachedInput, output });

/**
 * Standard-tier list prices, USD per million tokens, as published on OpenAI's and Anthropic's
 * pricing pages; compiled 2026-11-23. No batch or priority tier, no long-context surcharge, and
 * 5-minute cache writes. Prices change: check them and override through configuration (the
 * `createPricing` overrides) rather than trusting this table for invoices.
 */
export const DEFAULT_PRICES: PriceTable = {
  // OpenAI: input, cached input, output.
  'gpt-5.5': openai(5, 0.5, 30),
  'gpt-5.4': openai(2.5, 0.25, 15),
  'gpt-5.4-mini': openai(0.75, 0.075, 4.5),
  'gpt-5.4-nano': openai(0.2, 0.02, 1.25),
  'gpt-5.1': openai(1.25, 0.125, 10),
  'gpt-5': openai(1.25, 0.125, 10),
  'gpt-5-mini': openai(0.25, 0.025, 2),
  'gpt-5-nano': openai(0.05, 0.005, 0.4),
  'gpt-4.1': openai(2, 0.5, 8),
  'gpt-4.1-mini': openai(0.4, 0.1, 1.6),
  'gpt-4.1-nano': openai(0.1, 0.025, 0.4),
  'gpt-4o': openai(2.5, 1.25, 10),
  'gpt-4o-2024-05-13': openai(5, undefined, 15),
  'gpt-4o-mini': openai(0.15, 0.075, 0.6),
  o1: openai(15, 7.5, 60),
  o3: openai(2, 0.5, 8),
  'o3-mini': openai(1.1, 0.55, 4.4),
  'o4-mini': openai(1.1, 0.275, 4.4),
  'gpt-4-turbo': openai(10, undefined, 30),
  'gpt-3.5-turbo': openai(0.5, undefined, 1.5),
  'gpt-3.5-turbo-instruct': openai(1.5, undefined, 2),
  'text-embedding-3-small': openai(0.02, undefined, 0),
  'text-embedding-3-large': openai(0.13, undefined, 0),
  'text-embedding-ada-002': openai(0.1, undefined, 0),
  // Anthropic: input, 5-minute cache write, cache read, output.
  'claude-opus-5': anthropic(5, 6.25, 0.5, 25),
  'claude-opus-4-8': anthropic(5, 6.25, 0.5, 25),
  'claude-opus-4-7': anthropic(5, 6.25, 0.5, 25),
  'claude-opus-4-6': anthropic(5, 6.25, 0.5, 25),
  'claude-opus-4-5': anthropic(5, 6.25, 0.5, 25),
  'claude-opus-4-1': anthropic(15, 18.75, 1.5, 75),
  'claude-opus-4': anthropic(15, 18.75, 1.5, 75),
  'claude-opus-4-0': anthropic(15, 18.75, 1.5, 75),
  'claude-sonnet-5': anthropic(2, 2.5, 0.2, 10),
  'claude-sonnet-4-6': anthropic(3, 3.75, 0.3, 15),
  'claude-sonnet-4-5': anthropic(3, 3.75, 0.3, 15),
  'claude-sonnet-4': anthropic(3, 3.75, 0.3, 15),
  'claude-sonnet-4-0': anthropic(3, 3.75, 0.3, 15),
  'claude-3-7-sonnet': anthropic(3, 3.75, 0.3, 15),
  'claude-haiku-4-5': anthropic(1, 1.25, 0.1, 5),
  'claude-3-5-haiku': anthropic(0.8, 1, 0.08, 4),
  'claude-3-haiku': anthropic(0.25, 0.3, 0.03, 1.25),
};

/** Dated snapshots and `-latest` aliases price like their family: `gpt-4o-2024-08-06` -> `gpt-4o`. */
const SNAPSHOT_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

export class PricingError extends Error {
  override name = 'PricingError';
}

export interface Pricing {
  /** The price of a model, or undefined when the table does not know it. */
  priceOf(model: string): ModelPrice | undefined;
  /**
   * Cost of one call in USD, or undefined when the model is unknown or the call reported no
   * token counts at all: an unknown cost is not a zero cost.
   */
  costUsd(model: string | undefined, usage: NormalisedUsage): number | undefined;
}

/**
 * A pricing table: the defaults with `overrides` laid over them. An override for a known model
 * may change single prices (`{ "gpt-4o": { "output": 12 } }`); a new model needs at least
 * `input` and `output`. Bad prices are refused with an error naming the model and field.
 */
export function createPricing(overrides: Readonly<Record<string, Partial<ModelPrice>>> = {}): Pricing {
  const table = new Map<string, ModelPrice>(Object.entries(DEFAULT_PRICES));
  for (const [model, override] of Object.entries(overrides)) table.set(model, mergePrice(model, table.get(model), override));
  const priceOf = (model: string): ModelPrice | undefined => table.get(model) ?? table.get(model.replace(SNAPSHOT_SUFFIX, ''));
  return {
    priceOf,
    costUsd(model, usage) {
      const price = model === undefined ? undefined : priceOf(model);
      return price === undefined ? undefined : priceUsage(price, usage);
    },
  };
}

function mergePrice(model: string, base: ModelPrice | undefined, override: Partial<ModelPrice>): ModelPrice {
  for (const [field, value] of Object.entries(override)) {
    if (field === 'reasoningIncludedInOutput') {
      if (typeof value !== 'boolean') throw new PricingError(`pricing for "${model}": reasoningIncludedInOutput must be true or false`);
    } else if (!['input', 'output', 'cachedInput', 'cacheWrite', 'reasoning'].includes(field)) {
      throw new PricingError(
        `pricing for "${model}": unknown field "${field}"; use input, output, cachedInput, cacheWrite, reasoning or reasoningIncludedInOutput`,
      );
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new PricingError(`pricing for "${model}": ${field} must be a price in USD per million tokens, 0 or more; got ${JSON.stringify(value)}`);
    }
  }
  const merged = { ...base, ...override };
  if (merged.input === undefined || merged.output === undefined) {
    throw new PricingError(`pricing for "${model}": a model not in the built-in table needs both input and output prices (USD per million tokens)`);
  }
  return merged as ModelPrice;
}

/**
 * Uncached prompt tokens at the input rate, cache reads and writes at theirs, output at the output
 * rate with its reasoning part at the reasoning rate. Reasoning is priced inside the output count
 * when the provider includes it there, so it is never paid twice.
 */
function priceUsage(price: ModelPrice, usage: NormalisedUsage): number | undefined {
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return undefined;
  const input = usage.inputTokens ?? 0;
  const cached = Math.min(usage.cachedTokens ?? 0, input);
  const written = Math.min(usage.cacheWriteTokens ?? 0, input - cached);
  const output = usage.outputTokens ?? 0;
  const reasoning = usage.reasoningTokens ?? 0;
  const reasoningRate = price.reasoning ?? price.output;
  const outputCost =
    price.reasoningIncludedInOutput === false
      ? output * price.output + reasoning * reasoningRate
      : (output - Math.min(reasoning, output)) * price.output + Math.min(reasoning, output) * reasoningRate;
  const perMillion =
    (input - cached - written) * price.input + cached * (price.cachedInput ?? price.input) + written * (price.cacheWrite ?? price.input) + outputCost;
  // Rounded to a billionth of a dollar so sums of floating-point products print cleanly.
  return Math.round((perMillion / 1_000_000) * 1e9) / 1e9;
}

const defaultPricing = createPricing();

/** Cost of a call at the built-in prices; see `createPricing` for configured ones. */
export function costUsd(model: string | undefined, usage: NormalisedUsage): number | undefined {
  return defaultPricing.costUsd(model, usage);
}

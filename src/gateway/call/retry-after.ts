import type { IncomingHttpHeaders } from 'node:http';

/**
 * How long an upstream asks to be left alone, in milliseconds: OpenAI's `retry-after-ms`, else
 * the standard `Retry-After` as seconds or an HTTP date. Undefined when it says nothing usable.
 */
export function retryAfterMs(headers: IncomingHttpHeaders, now: number = Date.now()): number | undefined {
  const ms = single(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = single(headers['retry-after'])?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Exponential backoff with full jitter: a random wait up to initial * 2^retry, capped (AWS's "full jitter"). */
export function backoffMs(retry: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(maxMs, initialMs * 2 ** retry));
}

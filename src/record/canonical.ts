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

/** No limit on nesting short of the engine's stack: for values that were JSON already (stored envelopes). */
const UNLIMITED = 0x3fffffff;

/**
 * A checked copy whose objects list their keys in RFC 8785 order, so JSON.stringify of it is
 * canonical unless `indexKeys` says an object holds keys like "1", which JavaScript reorders.
 *
 * `maxDepth` bounds how deeply objects and arrays nest, `value` itself being level 1: a value from
 * a caller (a record's metadata) may be circular or nested deep enough to exhaust the stack, and
 * is refused with the path where it goes too deep, or where it refers back to itself. The depth is
 * counted by the walk that copies anyway; a cycle is only looked for once the limit is passed.
 */
export function canonicalCopy(value: unknown, path = '', maxDepth = UNLIMITED): { value: unknown; indexKeys: boolean } {
  const state: WalkState = { indexKeys: false, root: value, maxDepth };
  return { value: sorted(value, path, undefined, state, maxDepth), indexKeys: state.indexKeys };
}

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  /**
   * @param path where the value is refused (`metadata.a[2]`; `value` for the whole of it)
   * @param problem what is wrong there, a phrase following the path
   */
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} ${problem}`);
  }
}

interface WalkState {
  indexKeys: boolean;
  /** The value the walk started from, to find a cycle in once the walk has gone too deep. */
  readonly root: unknown;
  readonly maxDepth: number;
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

/** `levels` is how many more objects or arrays may nest here, this one included. */
function sorted(value: unknown, parent: Trail, key: string | number | undefined, state: WalkState, levels: number): unknown {
  switch (typeof value) {
    case 'string':
      // JSON.stringify would escape a lone surrogate; RFC 8785 (I-JSON) forbids it outright.
      if (!value.isWellFormed()) throw new CanonicalJsonError(pathOf(parent, key), 'contains a lone surrogate, which is not valid Unicode text');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(pathOf(parent, key), `is ${value}, which JSON cannot represent`);
      return value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      const here: Trail = key === undefined ? parent : { parent, key };
      if (levels === 0) throw tooDeep(here, state);
      const inner = levels - 1;
      if (Array.isArray(value)) return value.map((item, i) => sorted(item ?? null, here, i, state, inner));
      // A plain object, not one without a prototype: V8 keeps those as hash tables, which cost
      // several times the memory on the record path and are slower to serialise.
      const out: Record<string, unknown> = {};
      for (const name of sortedKeys(value)) {
        const item = (value as Record<string, unknown>)[name];
        if (item === undefined) continue;
        if (!name.isWellFormed()) throw new CanonicalJsonError(pathOf(here, undefined), 'has a key with a lone surrogate');
        if (INDEX_KEY.test(name)) state.indexKeys = true;
        const copy = sorted(item, here, name, state, inner);
        // Assigning "__proto__" would change the copy's prototype; defined, it is kept as data.
        if (name === '__proto__') Object.defineProperty(out, name, { value: copy, enumerable: true, writable: true, configurable: true });
        else out[name] = copy;
      }
      return out;
    }
    default:
      throw new CanonicalJsonError(pathOf(parent, key), `is a ${typeof value}, which JSON cannot represent`);
  }
}

/**
 * The error for an object or array nested one level past the limit, at `here`. Off the hot path:
 * the walk keeps no list of the objects it is inside, so they are found again by following the
 * keys from the root, and a cycle among them is named where it closes.
 */
function tooDeep(here: Trail, state: WalkState): CanonicalJsonError {
  const steps: { trail: Trail; value: unknown }[] = [];
  const follow = (trail: Trail): unknown => {
    const value = typeof trail === 'string' ? state.root : (follow(trail.parent) as Record<string | number, unknown>)[trail.key];
    steps.push({ trail, value });
    return value;
  };
  follow(here);
  for (let j = 1; j < steps.length; j++) {
    const first = steps.findIndex((s) => s.value === steps[j]!.value);
    if (first < j) {
      const at = pathOf(steps[j]!.trail, undefined);
      const target = first === 0 ? `${pathOf(steps[0]!.trail, undefined)} itself` : pathOf(steps[first]!.trail, undefined);
      return new CanonicalJsonError(at, `refers back to ${target} (a circular reference), which JSON cannot represent: pass a copy without the cycle`);
    }
  }
  return new CanonicalJsonError(
    pathOf(here, undefined),
    `is nested too deep: objects and arrays may nest ${state.maxDepth} levels, ${pathOf(steps[0]!.trail, undefined)} itself being the first; flatten it, or pass the deeper part as a JSON string`,
  );
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

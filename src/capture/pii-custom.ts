import { BUILTIN_DETECTORS } from './pii-detectors.js';

/** A detector from configuration: `pattern` is regex source, as written in YAML. */
export interface CustomPattern {
  name: string;
  pattern: string;
  flags?: string;
}

/** A configured detector that cannot be used, naming it so the user knows which line to fix. */
export class RedactorConfigError extends Error {
  override readonly name = 'RedactorConfigError';
  constructor(
    message: string,
    /** The detector or custom pattern at fault. */
    readonly detector: string,
  ) {
    super(message);
  }
}

/**
 * JavaScript regexes cannot be interrupted, so one pathological pattern would stall every
 * request that passes through capture. Long patterns are refused because they are where
 * nested and overlapping repetition hides; 512 characters is far beyond any id shape.
 */
export const MAX_CUSTOM_PATTERN_LENGTH = 512;

/** `g` is ours to set; `y` and `d` would change what a match means. */
const ALLOWED_FLAGS = /^[imsuv]*$/;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_DETECTORS);

/** Validates every custom pattern and compiles each once, with the `g` flag the scanner needs. */
export function compileCustomPatterns(patterns: readonly CustomPattern[]): { name: string; regex: RegExp }[] {
  const seen = new Set<string>();
  return patterns.map(({ name, pattern, flags = '' }) => {
    const fail = (why: string): never => {
      throw new RedactorConfigError(`Custom pattern "${name}": ${why}`, name);
    };
    if (!NAME.test(name)) fail('name must start with a letter and hold only letters, digits, "_" or "-" (at most 64)');
    if (BUILTIN_NAMES.has(name)) fail('name is already used by a built-in detector');
    if (seen.has(name)) fail('name is used by more than one custom pattern');
    seen.add(name);
    if (pattern.length === 0) fail('pattern is empty');
    if (pattern.length > MAX_CUSTOM_PATTERN_LENGTH) fail(`pattern is ${pattern.length} characters, more than the limit of ${MAX_CUSTOM_PATTERN_LENGTH}`);
    if (!ALLOWED_FLAGS.test(flags)) fail(`flags "${flags}" are not allowed; use any of i, m, s, u, v`);
    const nested = nestedRepetition(pattern);
    if (nested !== undefined)
      fail(`a repeated group contains a repetition (${nested}), which can take exponential time (catastrophic backtracking); rewrite it without nesting`);
    let regex: RegExp;
    try {
      regex = new RegExp(pattern, `${flags}g`);
    } catch (error) {
      return fail(`invalid regular expression: ${(error as Error).message}`);
    }
    if (regex.test('')) fail('pattern matches the empty string, so it would match everywhere');
    regex.lastIndex = 0;
    return { name, regex };
  });
}

/** `*`, `+`, `{n,}` and `{n,m}` with m > 1 repeat; `?`, `{n}` with n <= 1 and `{0,1}` do not. */
function repetitionAt(source: string, i: number): number {
  const c = source[i];
  if (c === '*' || c === '+') return 1;
  if (c !== '{') return 0;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
  if (m === null) return 0;
  const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
  return max > 1 ? m[0].length : 0;
}

/**
 * Finds the classic exponential shape, a repeated group whose body itself repeats (`(a+)+`,
 * `(\w+\s?)*`), and returns it. A heuristic, not a proof: overlapping alternatives under a
 * repetition (`(a|a)*`) and adjacent overlapping repetitions (`\d+\d+$`, polynomial) pass.
 */
function nestedRepetition(source: string): string | undefined {
  const groups: { start: number; repeats: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groups.push({ start: i, repeats: false });
    else if (c === ')') {
      const group = groups.pop();
      if (group === undefined) continue; // unbalanced: RegExp reports it with a better message
      const width = repetitionAt(source, i + 1);
      if (group.repeats && width > 0) return source.slice(group.start, i + 1 + width);
      const parent = groups.at(-1);
      if (parent !== undefined && (group.repeats || width > 0)) parent.repeats = true;
    } else if (repetitionAt(source, i) > 0) {
      const parent = groups.at(-1);
      if (parent !== undefined) parent.repeats = true;
    }
  }
  return undefined;
}

import { compileCustomPatterns, RedactorConfigError, type CustomPattern } from './pii-custom.js';
import { BUILTIN_DETECTORS, DETECTOR_SPECS, type DetectorName, type Span } from './pii-detectors.js';
import { resolveClaims, type Claim } from './pii-spans.js';

export { BUILTIN_DETECTORS, type DetectorName } from './pii-detectors.js';
export { MAX_CUSTOM_PATTERN_LENGTH, RedactorConfigError, type CustomPattern } from './pii-custom.js';

export interface RedactorOptions {
  /** Built-in detectors to run; all of them when absent. */
  detectors?: readonly DetectorName[];
  custom?: readonly CustomPattern[];
  /** Text that stands in for a span; `[REDACTED:<detector>]` when absent. */
  replacement?: (detector: string) => string;
}

export interface Redaction {
  text: string;
  /** Spans replaced per detector; only detectors that fired appear. */
  findings: Record<string, number>;
  total: number;
}

/** One stretch of text a detector claims, and what stands in for it. */
export interface Finding {
  start: number;
  end: number;
  detector: string;
  replacement: string;
}

export interface Redactor {
  redact(text: string): Redaction;
  /** The stretches `redact` would replace, in text order, without building the new text. */
  find(text: string): Finding[];
}

/** Everything one detector needs at redaction time, prepared once in createRedactor. */
interface Compiled {
  readonly name: string;
  readonly regex: RegExp;
  readonly needsDigit: boolean;
  readonly needles: readonly string[];
  readonly spans: ((match: RegExpExecArray) => readonly Span[]) | undefined;
  readonly replacement: string;
}

const HAS_DIGIT = /\d/;
const KNOWN: ReadonlySet<string> = new Set(BUILTIN_DETECTORS);

const defaultReplacement = (detector: string): string => `[REDACTED:${detector}]`;

/**
 * Compiles the chosen detectors once. Each redact() call then runs only the detectors whose
 * cheap pre-check (a digit, an `@`, a key prefix) passes, one regex pass each, and rebuilds the
 * text in a single pass over the merged spans. Not safe for concurrent use across threads; a
 * redactor is cheap, so make one per worker.
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const replacementOf = options.replacement ?? defaultReplacement;
  const chosen = new Set<string>(options.detectors ?? BUILTIN_DETECTORS);
  for (const name of chosen) {
    if (!KNOWN.has(name)) throw new RedactorConfigError(`Unknown detector "${name}"; the built-in detectors are ${BUILTIN_DETECTORS.join(', ')}`, name);
  }
  const compiled: Compiled[] = [];
  // Precedence follows BUILTIN_DETECTORS whatever order the caller listed them in.
  for (const name of BUILTIN_DETECTORS) {
    if (!chosen.has(name)) continue;
    const spec = DETECTOR_SPECS[name];
    compiled.push({
      name,
      regex: new RegExp(spec.source, `${spec.flags ?? ''}g`),
      needsDigit: spec.needsDigit ?? false,
      needles: spec.needles ?? [],
      spans: spec.spans,
      replacement: replacementOf(name),
    });
  }
  for (const { name, regex } of compileCustomPatterns(options.custom ?? [])) {
    compiled.push({ name, regex, needsDigit: false, needles: [], spans: undefined, replacement: replacementOf(name) });
  }
  const redactor = { redact: (text: string) => redact(compiled, text), find: (text: string) => find(compiled, text) };
  rejectSelfMatchingReplacements(compiled, redactor);
  return redactor;
}

/**
 * If a replacement were itself redacted, a second pass would count it again and the stored
 * counts would depend on how often content passed through capture. Refuse that up front.
 */
function rejectSelfMatchingReplacements(compiled: readonly Compiled[], redactor: Redactor): void {
  for (const { name, replacement } of compiled) {
    const again = redactor.redact(replacement);
    const culprit = Object.keys(again.findings)[0];
    if (culprit !== undefined) {
      throw new RedactorConfigError(
        `The replacement for "${name}" ("${replacement}") is itself matched by "${culprit}", so redacting twice would replace it again; narrow the pattern or change the replacement`,
        culprit,
      );
    }
  }
}

function find(compiled: readonly Compiled[], text: string): Finding[] {
  const claims: Claim[] = [];
  let hasDigit: boolean | undefined;
  for (let rank = 0; rank < compiled.length; rank++) {
    const detector = compiled[rank]!;
    if (detector.needsDigit && !(hasDigit ??= HAS_DIGIT.test(text))) continue;
    if (detector.needles.length > 0 && !detector.needles.some((needle) => text.includes(needle))) continue;
    const { regex, spans } = detector;
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const match = m[0];
      // An empty match would not advance lastIndex; custom patterns are vetted for this, but a
      // lookaround-only pattern can still match empty inside text.
      if (match.length === 0) {
        regex.lastIndex++;
        continue;
      }
      if (spans === undefined) claims.push({ start: m.index, end: m.index + match.length, rank });
      else for (const [start, end] of spans(m)) claims.push({ start: m.index + start, end: m.index + end, rank });
    }
  }
  if (claims.length === 0) return [];
  return resolveClaims(claims).map(({ start, end, rank }) => ({ start, end, detector: compiled[rank]!.name, replacement: compiled[rank]!.replacement }));
}

function redact(compiled: readonly Compiled[], text: string): Redaction {
  const findings = find(compiled, text);
  return findings.length === 0 ? { text, findings: {}, total: 0 } : applyFindings(text, findings);
}

/** The text with each finding replaced, and the count per detector. */
export function applyFindings(text: string, findings: readonly Finding[]): Redaction {
  const counts: Record<string, number> = {};
  let out = '';
  let at = 0;
  for (const { start, end, detector, replacement } of findings) {
    out += text.slice(at, start) + replacement;
    at = end;
    counts[detector] = (counts[detector] ?? 0) + 1;
  }
  return { text: out + text.slice(at), findings: counts, total: findings.length };
}

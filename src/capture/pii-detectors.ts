import { isIPv6 } from 'node:net';
import { cardValid, countDigits, ibanChecksumValid, ibanLength, ipv4Valid } from './pii-checks.js';

/**
 * Built-in detector names, in precedence order: when two detectors claim the same span of the
 * same length, the one listed first names it. Secrets come first because their shapes are the
 * most specific; phone comes last because its shapes are the loosest.
 */
export const BUILTIN_DETECTORS = [
  'private_key',
  'jwt',
  'bearer_token',
  'anthropic_key',
  'openai_key',
  'github_token',
  'slack_token',
  'google_api_key',
  'aws_access_key',
  'card',
  'iban',
  'ssn',
  'email',
  'ipv6',
  'ipv4',
  'phone',
] as const;

export type DetectorName = (typeof BUILTIN_DETECTORS)[number];

/**
 * Half-open [start, end) offsets from the start of a regex match. A start may be negative: a
 * pattern that anchors on a literal (`@`, `:`) captures what precedes it in a lookbehind,
 * because V8 scans for a leading literal many times faster than it tries every offset.
 */
export type Span = readonly [start: number, end: number];

export interface DetectorSpec {
  /** Source of a regex run with the `g` flag (plus `flags`); compiled once per redactor. */
  readonly source: string;
  readonly flags?: string;
  /** The text must contain a digit, or the regex cannot match. */
  readonly needsDigit?: boolean;
  /** The text must contain one of these, or the regex cannot match. */
  readonly needles?: readonly string[];
  /** The parts of a match that really are the thing; none rejects the match. Whole match if absent. */
  readonly spans?: (match: RegExpExecArray) => readonly Span[];
}

const NONE: readonly Span[] = [];
const whole =
  (ok: (match: string) => boolean) =>
  (m: RegExpExecArray): readonly Span[] =>
    ok(m[0]) ? [[0, m[0].length]] : NONE;

/**
 * How cards are printed: one unbroken number, or fours with a shorter last group (16 as 4-4-4-4,
 * 19 as 4-4-4-4-3), or the Amex and Diners 4-6-5 and 4-6-4. Requiring a layout is what stops a
 * run of unrelated numbers (`900-12-3456 123-00-4567`) from passing Luhn by chance as a card.
 */
function cardLayout(lengths: readonly number[]): boolean {
  const last = lengths.length - 1;
  if (last === 0) return true;
  if (last === 2 && lengths[0] === 4 && lengths[1] === 6) return lengths[2] === 5 || lengths[2] === 4;
  return lengths.every((n, i) => n === 4 || (i === last && n < 4));
}

/**
 * A run of digit groups joined by single spaces or dashes can hold a card next to other numbers
 * (`ref 415-555 4111 1111 1111 1111`). From every group, claim the longest window of whole groups
 * with one separator throughout, 13-19 digits and a card layout that passes Luhn. Windows never
 * split a group, and overlapping windows (`1234 4111 1111 1111 1111`, where a window starting at
 * 1234 may pass as well) are all claimed, so the merge hides the union and no card digit is left.
 */
function cardSpans(m: RegExpExecArray): readonly Span[] {
  const run = m[0];
  const starts: number[] = [];
  const ends: number[] = [];
  const re = /\d+/g;
  for (let m = re.exec(run); m !== null; m = re.exec(run)) {
    starts.push(m.index);
    ends.push(m.index + m[0].length);
  }
  const found: Span[] = [];
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]!;
    const separator = run[ends[i]!];
    const lengths: number[] = [];
    let best = -1;
    let digits = 0;
    for (let j = i; j < starts.length; j++) {
      if (j > i && run[ends[j - 1]!] !== separator) break;
      const length = ends[j]! - starts[j]!;
      lengths.push(length);
      digits += length;
      if (digits > 19) break;
      if (digits >= 13 && cardLayout(lengths) && cardValid(run.slice(from, ends[j]!))) best = j;
    }
    if (best >= 0) found.push([from, ends[best]!]);
  }
  return found;
}

/**
 * The regex accepts groups of four and may run into a following word (`... 7034 from`); the
 * country's registered length says where the IBAN really ends, and that end must fall on a
 * group boundary.
 */
function ibanSpans(m: RegExpExecArray): readonly Span[] {
  const match = m[0];
  const length = ibanLength(match.slice(0, 2));
  if (length === undefined) return NONE;
  let seen = 0;
  let end = 0;
  while (end < match.length && seen < length) if (match.charCodeAt(end++) !== 32) seen++;
  if (seen < length || (end < match.length && match.charCodeAt(end) !== 32)) return NONE;
  const candidate = match.slice(0, end);
  return ibanChecksumValid(candidate.replaceAll(' ', '')) ? [[0, end]] : NONE;
}

const HAS_DIGIT = /\d/;

/**
 * The match starts at the first colon; group 1 holds the hex group before it. A trailing single
 * colon is punctuation (`at fe80::1: timeout`), not part of the address.
 */
function ipv6Spans(m: RegExpExecArray): readonly Span[] {
  const lead = m[1]!;
  const match = m[0];
  const end = match.endsWith(':') && !match.endsWith('::') ? match.length - 1 : match.length;
  const candidate = lead + match.slice(0, end);
  // `Bad::Cafe` is a valid address and a C++ name; real addresses carry digits.
  return HAS_DIGIT.test(candidate) && isIPv6(candidate) ? [[-lead.length, end]] : NONE;
}

/** The match starts at `@`; group 1 holds the local part before it. */
const emailSpans = (m: RegExpExecArray): readonly Span[] => [[-m[1]!.length, m[0].length]];

/** `Bearer authentication` is prose; a token is long, or short with digits in it. */
function bearerSpans(m: RegExpExecArray): readonly Span[] {
  const match = m[0];
  const token = match.slice(match.search(/[ \t]/)).trimStart();
  return token.length >= 20 || (token.length >= 8 && HAS_DIGIT.test(token)) ? [[0, match.length]] : NONE;
}

/** E.164 allows at most 15 digits; fewer than 8 is an arithmetic `+1234`, not a subscriber. */
const internationalPhone = (match: string): boolean => {
  const n = countDigits(match);
  return n >= 8 && n <= 15;
};

/** National numbers: 10 in North America and France, 9-12 with trunk prefixes in Europe. */
const nationalPhone = (match: string): boolean => {
  const n = countDigits(match);
  return n >= 9 && n <= 12;
};

const phoneSpans = (m: RegExpExecArray): readonly Span[] => (m[0].startsWith('+') ? whole(internationalPhone)(m) : whole(nationalPhone)(m));

/*
 * Regex rules that hold throughout:
 * - every repetition is unambiguous (a group starts with a character its predecessor cannot
 *   end with), so a failed match costs time linear in the candidate, never exponential;
 * - lookbehinds pin candidates to the start of a token, so the engine does not retry every
 *   offset inside a long word or number, and so `v1.2.3.4` or `order-2024-555-0199` stay whole.
 */
export const DETECTOR_SPECS: Readonly<Record<DetectorName, DetectorSpec>> = {
  // A key cut off by truncation is still a key: without its END line, redact to the end of text.
  private_key: {
    source: String.raw`-----BEGIN ([A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*)-----[\s\S]*?(?:-----END \1-----|$)`,
    needles: ['-----BEGIN '],
  },
  jwt: {
    source: String.raw`(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*`,
    needles: ['eyJ'],
  },
  bearer_token: {
    source: String.raw`(?<![\w-])(?:Bearer|bearer|BEARER)[ \t]+[\w.~+/-]+=*`,
    needles: ['Bearer', 'bearer', 'BEARER'],
    spans: bearerSpans,
  },
  anthropic_key: {
    source: String.raw`(?<![\w-])sk-ant-[\w-]{20,}`,
    needles: ['sk-ant-'],
  },
  // Covers legacy `sk-...` and the `sk-proj-`, `sk-svcacct-`, `sk-admin-` forms alike.
  openai_key: {
    source: String.raw`(?<![\w-])sk-(?!ant-)[\w-]{20,}`,
    needles: ['sk-'],
  },
  github_token: {
    source: String.raw`(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})`,
    needles: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  slack_token: {
    source: String.raw`(?<![\w-])xox[bpars]-[A-Za-z0-9-]{10,}`,
    needles: ['xox'],
  },
  google_api_key: {
    source: String.raw`(?<![\w-])AIza[\w-]{35}(?![\w-])`,
    needles: ['AIza'],
  },
  aws_access_key: {
    source: String.raw`(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
    needles: ['AKIA', 'ASIA'],
  },
  // Any run of 13+ digits with single space/dash separators; cardSpans finds the cards in it.
  card: {
    source: String.raw`(?<!\d)\d(?:[ -]?\d){12,}`,
    needsDigit: true,
    spans: cardSpans,
  },
  // Grouped by four with spaces, or compact; case-insensitive because people type it both ways.
  iban: {
    source: String.raw`(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,8}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})(?![A-Za-z0-9])`,
    flags: 'i',
    needsDigit: true,
    spans: ibanSpans,
  },
  // Separated forms only: nine bare digits are far more often an id than an SSN.
  ssn: {
    source: String.raw`(?<![\w-])(?!000|666|9)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])`,
    needsDigit: true,
  },
  email: {
    source: String.raw`(?<=(?<![\w.%+-])([\w.%+-]{1,64}))@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,63}(?![\w-])`,
    needles: ['@'],
    spans: emailSpans,
  },
  // A loose candidate (hex, at least two colons, an optional dotted IPv4 tail); node:net decides.
  ipv6: {
    source: String.raw`(?<=(?<![\w:.])([0-9A-Fa-f]{0,4})):(?=[0-9A-Fa-f]*:)[0-9A-Fa-f:]{1,38}(?:\.\d{1,3}){0,3}(?![\w:]|\.\d)`,
    needles: [':'],
    spans: ipv6Spans,
  },
  ipv4: {
    source: String.raw`(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)`,
    needsDigit: true,
    needles: ['.'],
    spans: whole(ipv4Valid),
  },
  /*
   * International: `+CC` then digit groups, each after one separator or a parenthesised area
   * code. National: only shapes with separators, because bare digit runs are order ids, token
   * counts and timestamps far more often than phone numbers:
   *   (415) 555-2671 | [1-]415-555-2671 (one separator throughout) | 020 7946 0958 / 030 12345678
   *   (trunk 0) | 01 23 45 67 89 (French pairs, one separator throughout).
   */
  phone: {
    source: [
      String.raw`(?<![\w+])\+[1-9]\d*(?:[ .-]?\(\d+\)[ .-]?\d+|[ .-]\d+)*(?![\w-]|\.\d)`,
      String.raw`(?<![\w.+\-/:])(?:\([2-9]\d{2}\) ?\d{3}[-. ]\d{4}|(?:1[-. ])?[2-9]\d{2}([-. ])\d{3}\1\d{4}|0\d{1,4}[ -]\d{3,4}[ -]?\d{3,4}|0[1-9]([ .-])\d{2}(?:\2\d{2}){3})(?![\w\-/]|[.:]\d)`,
    ].join('|'),
    needsDigit: true,
    spans: phoneSpans,
  },
};

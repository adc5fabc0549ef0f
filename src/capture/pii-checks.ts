/**
 * Checksums and range rules that turn a regex candidate into a finding. Regexes find shapes;
 * these decide whether a shape is the real thing, which is what keeps order ids, dates and
 * version numbers out of the redaction counts.
 */

const ZERO = 48;

const isDigitCode = (code: number): boolean => code >= ZERO && code <= ZERO + 9;

/** Luhn over the digits of `text`, ignoring separators, so `4111 1111 1111 1111` checks as written. */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i);
    if (!isDigitCode(code)) continue;
    let d = code - ZERO;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (isDigitCode(text.charCodeAt(i))) n++;
  return n;
}

/**
 * Every network in use (Visa 4, Mastercard 2/5, Amex 3, Discover/UnionPay/Maestro 6) starts
 * with 2-6. Leaving out 1 keeps millisecond and microsecond timestamps, which start with 1 until
 * 2033, from being redacted when their digits happen to pass Luhn.
 */
export function cardValid(text: string): boolean {
  const first = text.charCodeAt(0) - ZERO;
  return first >= 2 && first <= 6 && luhnValid(text);
}

/**
 * IBAN length by country (SWIFT IBAN registry, plus the national formats that several central
 * banks publish without registering). A code not listed is not an IBAN: guessing a length for
 * it would let any `XX00` word with a lucky mod-97 through.
 */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AO: 25,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BF: 28,
  BG: 22,
  BH: 22,
  BI: 27,
  BJ: 28,
  BR: 29,
  BY: 28,
  CF: 27,
  CG: 27,
  CH: 21,
  CI: 28,
  CM: 27,
  CR: 22,
  CV: 25,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  DZ: 26,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GA: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GQ: 27,
  GR: 27,
  GT: 28,
  GW: 25,
  HN: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IR: 26,
  IS: 26,
  IT: 27,
  JO: 30,
  KM: 27,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MA: 28,
  MC: 27,
  MD: 24,
  ME: 22,
  MG: 27,
  MK: 19,
  ML: 28,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  MZ: 25,
  NE: 28,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SN: 28,
  SO: 23,
  ST: 25,
  SV: 28,
  TD: 27,
  TG: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

export function ibanLength(countryCode: string): number | undefined {
  return IBAN_LENGTHS[countryCode.toUpperCase()];
}

/** ISO 13616 check: move the first four characters to the end, letters become 10-35, mod 97 must be 1. */
export function ibanChecksumValid(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i) | 0x20;
    if (isDigitCode(code)) remainder = (remainder * 10 + (code - ZERO)) % 97;
    else if (code >= 97 && code <= 122) remainder = (remainder * 100 + (code - 87)) % 97;
    else return false;
  }
  return remainder === 1;
}

/** Dotted quad with every octet in 0-255; `999.1.1.1` is a version-like number, not an address. */
export function ipv4Valid(text: string): boolean {
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) octet = 0;
    else if ((octet = octet * 10 + (code - ZERO)) > 255) return false;
  }
  return true;
}

import type { TextFinding, TextScanner } from './types.js';

export interface RedactedText {
  text: string;
  /** Stretches replaced, over all scanners. */
  replaced: number;
  /** Replacements per detector or pattern name. */
  findings: Record<string, number>;
}

/** The text with each finding replaced by its stand-in. Findings are in text order and do not overlap. */
export function replaceFindings(text: string, findings: readonly TextFinding[]): string {
  let out = '';
  let at = 0;
  for (const { start, end, replacement } of findings) {
    out += text.slice(at, start) + replacement;
    at = end;
  }
  return out + text.slice(at);
}

/** Applies each scanner in turn (a later one sees the earlier ones' stand-ins, never the original). */
export function redactText(text: string, scanners: readonly TextScanner[]): RedactedText {
  const result: RedactedText = { text, replaced: 0, findings: {} };
  for (const scanner of scanners) {
    const findings = scanner.scan(result.text);
    if (findings.length === 0) continue;
    result.text = replaceFindings(result.text, findings);
    result.replaced += findings.length;
    countInto(result.findings, findings);
  }
  return result;
}

export function countInto(counts: Record<string, number>, findings: readonly TextFinding[]): void {
  for (const { label } of findings) counts[label] = (counts[label] ?? 0) + 1;
}

/** `email ×2, card ×1`: names and counts only, never the matched text. */
export function describeFindings(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([label, n]) => `${label} ×${n}`)
    .join(', ');
}

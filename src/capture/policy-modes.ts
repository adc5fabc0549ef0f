/**
 * Capture modes, from keeping least to keeping most. The order is the policy: a request may move
 * a class down this list, never up.
 *   none      nothing of the text: no digest, no content
 *   hash      a digest in the envelope, so equal texts correlate; no content
 *   encrypted the digest, plus the (redacted, truncated) text sealed under the subject's data key
 *   plaintext the digest, plus the (redacted, truncated) text as it is: needs `allow_plaintext`
 */
export const CAPTURE_MODES = ['none', 'hash', 'encrypted', 'plaintext'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

/** What the configuration sets a mode for: prompts are system prompt and input, responses the output. */
export const FIELD_CLASSES = ['prompts', 'responses', 'headers'] as const;
export type FieldClass = (typeof FIELD_CLASSES)[number];

export type StoringMode = Extract<CaptureMode, 'encrypted' | 'plaintext'>;

const RANK: Readonly<Record<CaptureMode, number>> = { none: 0, hash: 1, encrypted: 2, plaintext: 3 };

export function isCaptureMode(value: string): value is CaptureMode {
  return Object.hasOwn(RANK, value);
}

/** The mode that keeps less of the two. */
export function lowerMode(a: CaptureMode, b: CaptureMode): CaptureMode {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isAbove(a: CaptureMode, b: CaptureMode): boolean {
  return RANK[a] > RANK[b];
}

export function keepsDigest(mode: CaptureMode): boolean {
  return mode !== 'none';
}

export function keepsContent(mode: CaptureMode): mode is StoringMode {
  return mode === 'encrypted' || mode === 'plaintext';
}

export interface Truncation {
  /** The longest prefix of the text whose UTF-8 encoding fits in the limit. */
  text: string;
  /** UTF-8 size of the whole text, as it would be stored without a limit. */
  bytes: number;
  truncated: boolean;
}

const encoder = new TextEncoder();

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 on a character boundary: a multi-byte character or a
 * surrogate pair is kept whole or dropped whole, never split. Sizes count a lone surrogate as the
 * three bytes of the U+FFFD it is stored as, so the limit holds for the bytes actually written.
 */
export function truncateUtf8(text: string, maxBytes: number): Truncation {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a whole number of bytes, 0 or more; got ${maxBytes}`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, bytes, truncated: false };
  // encodeInto stops before the first character that does not fit whole, and `read` counts the
  // UTF-16 units it consumed: exactly the prefix wanted, found by the engine in one pass.
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return { text: text.slice(0, read), bytes, truncated: true };
}

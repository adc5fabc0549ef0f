/**
 * JSON for a terminal or a pipe. JSON.stringify escapes C0 controls but leaves DEL, the C1
 * controls (U+009B is a one-character escape sequence to many terminals) and the Unicode line
 * separators raw; they are escaped here too. The result is the same JSON value.
 */
export function jsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

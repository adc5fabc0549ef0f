/**
 * Makes stored text safe to print: control characters (newlines, ANSI escapes, DEL, C1) become
 * visible escapes, so a crafted model name cannot forge output lines or drive the terminal.
 */
export function printable(value: unknown): string {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

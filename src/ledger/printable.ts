/**
 * Makes stored text safe to print: control characters (newlines, ANSI escapes, DEL, C1) become
 * visible escapes, so a crafted model name cannot forge output lines or drive the terminal.
 */
export function printable(value: unknown): string {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Revealed prompt or response text for a terminal: its own line breaks and tabs are kept, every
 * other control character is escaped as in `printable`, and each line is indented behind a bar,
 * so the text cannot pass for the tool's own output or drive the terminal.
 */
export function printableBlock(text: string, indent = '  | '): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map(
      (line) =>
        `${indent}${line.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`,
    )
    .join('\n');
}

/**
 * Length-prefixed concatenation (u32 big-endian length before each part). Used wherever bytes
 * from several strings are authenticated together: without the lengths, record "ab" + field "c"
 * and record "a" + field "bc" would authenticate as the same bytes.
 */
export function framed(...parts: readonly (string | Uint8Array)[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

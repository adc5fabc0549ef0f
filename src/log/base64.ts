export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard padded base64 (RFC 4648 section 4) and accepts only the one canonical spelling
 * of each byte string. Node's own decoder skips junk and ignores the unused low bits of the last
 * character, so several texts would decode to the same bytes: a signed or hashed value could then
 * be edited without the change being detectable.
 */
export function decodeStrictBase64(text: string, expectedLength?: number): Buffer {
  if (typeof text !== 'string' || !PADDED_BASE64.test(text)) {
    throw new Base64Error('not padded standard base64 (RFC 4648 section 4)');
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new Base64Error('not canonical base64: the unused bits of the last character are not zero');
  }
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new Base64Error(`${bytes.length} bytes long, not ${expectedLength}`);
  }
  return bytes;
}

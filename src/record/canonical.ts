import canonicalize from 'canonicalize';

/** RFC 8785 (JCS) bytes of a JSON value: the only serialisation the log ever hashes. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

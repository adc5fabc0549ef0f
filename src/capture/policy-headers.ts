/** Headers as Node and fetch hand them over: any case, repeated headers as lists. */
export type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The request header through which a caller lowers capture of its own call. */
export const CAPTURE_REQUEST_HEADER = 'x-llm-ledger-capture';

/** Headers that carry credentials by definition; they are never kept, whatever the allow-list says. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'set-cookie'];

// Vendors name credential headers freely (x-goog-api-key, x-amz-security-token, x-auth-...);
// any name that looks like one is refused too, at the cost of the odd harmless header.
const CREDENTIAL_NAME = /key|token|secret|auth|passw|credential/i;
const CREDENTIAL_SET: ReadonlySet<string> = new Set(CREDENTIAL_HEADERS);

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_SET.has(name.toLowerCase()) || CREDENTIAL_NAME.test(name);
}

/** A repeated header reads as one value joined by ", ", as HTTP defines for lists. */
export function headerValue(value: string | readonly string[]): string {
  return typeof value === 'string' ? value : value.join(', ');
}

export interface SelectedHeaders {
  /** Allow-listed headers, lower-case names, sorted by name so digests do not depend on arrival order. */
  kept: [name: string, value: string][];
  /** The value of the capture request header, when the caller sent one. */
  request: string | undefined;
}

/**
 * One pass over the raw headers: picks the allow-listed ones and the capture request header.
 * Names differing only in case are one header, their values joined as a repeated header's are.
 */
export function selectHeaders(raw: RawHeaders | undefined, allow: ReadonlySet<string>): SelectedHeaders {
  let request: string | undefined;
  if (raw === undefined) return { kept: [], request };
  const kept = new Map<string, string>();
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === CAPTURE_REQUEST_HEADER) request = request === undefined ? headerValue(value) : `${request}, ${headerValue(value)}`;
    if (!allow.has(lower)) continue;
    const earlier = kept.get(lower);
    kept.set(lower, earlier === undefined ? headerValue(value) : `${earlier}, ${headerValue(value)}`);
  }
  return { kept: [...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), request };
}

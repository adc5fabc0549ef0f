/** Method and path of an SDK request (its `FinalRequestOptions`), the query string left off. */
export function requestTarget(requestOptions: unknown): { method: string; path: string } | undefined {
  const { method, path } = (requestOptions ?? {}) as { method?: unknown; path?: unknown };
  if (typeof method !== 'string' || typeof path !== 'string') return undefined;
  return { method: method.toLowerCase(), path: path.split('?')[0]! };
}

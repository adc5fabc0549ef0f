/**
 * Model-name globs, as written in `gateway.routes[].match` and in the `models` policy's allow and
 * deny lists. Here, in policy, because the `models` policy needs them and routing in the gateway
 * (the layer above) uses the same syntax.
 */

/** `gpt-*` -> /^gpt-.*$/i: only `*` is special, everything else matches itself. */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Compiles `exclude_models` once into a test for one model name. A pattern is an exact name or
 * a glob where `*` stands for any run of characters (`/` included, so `openai/*` works) and
 * every other character is literal. Matching ignores case: an exclusion exists to keep data
 * out, so `GPT-4o` must not slip past a rule written for `gpt-4o`. A call without a model is
 * matched as the empty name, which only `*` matches.
 */
export function compileModelMatcher(patterns: readonly string[]): (model: string | undefined) => boolean {
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const pattern of patterns) {
    const lower = pattern.toLowerCase();
    if (lower.includes('*')) globs.push(globToSource(lower));
    else exact.add(lower);
  }
  const glob = globs.length > 0 ? new RegExp(`^(?:${globs.join('|')})$`, 'is') : undefined;
  if (exact.size === 0 && glob === undefined) return () => false;
  return (model) => {
    const name = (model ?? '').toLowerCase();
    return exact.has(name) || (glob !== undefined && glob.test(name));
  };
}

/** Consecutive stars collapse, so `a**b` cannot make the regex backtrack more than `a*b`. */
function globToSource(glob: string): string {
  return glob
    .split(/\*+/)
    .map((literal) => literal.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))
    .join('.*');
}

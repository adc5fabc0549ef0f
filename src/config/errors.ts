/** One problem with the configuration, at a dotted path such as `store.path` or `capture.headers[2]`. */
export interface ConfigIssue {
  /** Empty for problems with the file as a whole. */
  path: string;
  /** A whole sentence that names the path itself, so it reads well even without `path`. */
  message: string;
  /** 1-based line in the YAML file, when the problem sits at a place in it. */
  line?: number;
}

/** Every problem found in one pass, so a user fixes the file once rather than once per error. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: ConfigIssue[],
    /** The file, or `environment`/`defaults` when there was none. */
    readonly source: string,
  ) {
    super(formatMessage(issues, source));
  }
}

function formatMessage(issues: ConfigIssue[], source: string): string {
  const lines = issues.map((i) => `  - ${i.line === undefined ? '' : `line ${i.line}: `}${i.message}`);
  return [`Invalid configuration (${source}):`, ...lines].join('\n');
}

/** `a.b[0].c`: numbers index lists, everything else names a key. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

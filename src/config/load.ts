import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { applyEnvOverrides, digestKeyFromEnv, envValue } from './env.js';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { interpolateDocument, keyName } from './interpolate.js';
import { describeIssues, type DescribedIssue } from './issues.js';
import { configSchema, type LedgerConfig } from './schema.js';

export const CONFIG_FILE_NAME = 'llm-ledger.yaml';

export interface LoadOptions {
  /** The YAML file; it must exist. Without it, LLM_LEDGER_CONFIG, then ./llm-ledger.yaml if present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ParseOptions {
  env?: NodeJS.ProcessEnv;
  /** Where relative paths from the environment resolve; defaults to process.cwd(). */
  cwd?: string;
  /** Where relative paths in the YAML resolve: the file's directory. Defaults to `cwd`. */
  baseDir?: string;
  /** Names the YAML in error messages. */
  source?: string;
}

/**
 * Loads the configuration: file values over defaults, environment over file. Having no file at
 * all is fine and means defaults; naming a file that does not exist is an error, because running
 * on defaults would silently write the ledger somewhere the user did not intend.
 */
export function loadConfig(options: LoadOptions = {}): LedgerConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.path ?? envValue(env, 'LLM_LEDGER_CONFIG');
  const file = resolve(cwd, named ?? CONFIG_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && named === undefined) return parseConfig('', { env, cwd, source: 'defaults and environment' });
    throw new ConfigError([{ path: '', message: unreadable(file, code, options.path === undefined, err as Error) }], file);
  }
  return parseConfig(text, { env, cwd, baseDir: dirname(file), source: file });
}

function unreadable(file: string, code: string | undefined, fromEnv: boolean, err: Error): string {
  const origin = fromEnv ? ' (named by LLM_LEDGER_CONFIG)' : '';
  if (code === 'ENOENT') {
    return (
      `Config file ${file}${origin} does not exist. Create it — an empty file is valid and means every default — ` +
      `or ${fromEnv ? 'unset LLM_LEDGER_CONFIG' : 'leave out the path'} to use the defaults, or ./${CONFIG_FILE_NAME} when present.`
    );
  }
  if (code === 'EISDIR') return `Config file ${file}${origin} is a directory; name the YAML file inside it.`;
  return `Config file ${file}${origin} cannot be read: ${err.message}`;
}

/** Parses and validates YAML text; every problem found is reported in one ConfigError. */
export function parseConfig(yamlText: string, options: ParseOptions = {}): LedgerConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const source = options.source ?? 'inline configuration';
  const lines = new LineCounter();
  // Not pretty: yaml's pretty errors quote source lines, which may hold secrets. Warnings are
  // collected below instead of printed.
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, logLevel: 'error' });
  // Warnings too (an unknown tag, say): a strict loader does not guess.
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    throw new ConfigError(
      syntax.map((e) => ({ path: '', message: `YAML: ${e.message}`, line: lines.linePos(e.pos[0]).line })),
      source,
    );
  }

  const failedInterpolations = interpolateDocument(doc, env).map((i) => ({ ...i, message: `${formatPath(i.path)} ${i.message}` }));
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (err) {
    throw new ConfigError([{ path: '', message: `YAML: ${(err as Error).message}` }], source);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      [
        {
          path: '',
          message: `The configuration must be a mapping of sections (store, log, ...); found ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
        },
      ],
      source,
    );
  }

  const document = value as Record<string, unknown>;
  const { sources } = applyEnvOverrides(document, env, cwd);
  const digestKey = digestKeyFromEnv(env);
  const schema = configSchema(options.baseDir ?? cwd);
  const result = schema.safeParse(document);

  // A value whose reference failed has already been reported; its leftover text would only add noise.
  const failedPaths = new Set(failedInterpolations.map((i) => formatPath(i.path)));
  const schemaIssues = result.success ? [] : describeIssues(result.error.issues, document, schema, sources).filter((i) => !failedPaths.has(formatPath(i.path)));
  const issues = [...failedInterpolations, ...schemaIssues].map((i) => locate(i, doc, lines, sources)).sort(byLine);
  if (digestKey.issue) issues.push(digestKey.issue);
  if (issues.length > 0 || !result.success) throw new ConfigError(issues, source);
  const config = result.data;
  return digestKey.key === undefined ? config : { ...config, digest: { ...config.digest, key: digestKey.key } };
}

/** In file order, so the list reads top to bottom; problems without a line (environment) come last. */
function byLine(a: ConfigIssue, b: ConfigIssue): number {
  // Two lineless issues give NaN: keep their order.
  return (a.line ?? Infinity) - (b.line ?? Infinity) || 0;
}

/** Adds the line in the file where the problem is, unless the value came from the environment. */
function locate(issue: DescribedIssue, doc: Document, lines: LineCounter, sources: ReadonlyMap<string, string>): ConfigIssue {
  const out: ConfigIssue = { path: formatPath(issue.path), message: issue.message };
  if (sources.has(out.path)) return out;
  let node: unknown = doc.contents;
  for (const [index, segment] of issue.path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyName(p.key) === String(segment));
      node = pair && issue.atKey && index === issue.path.length - 1 ? pair.key : pair?.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      return out;
    }
  }
  const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
  return offset === undefined ? out : { ...out, line: lines.linePos(offset).line };
}

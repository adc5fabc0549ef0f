import { resolve } from 'node:path';
import * as z from 'zod';

/*
 * The whole configuration in one place. YAML keys are snake_case; every section is a strict
 * object (an unknown key is an error, never ignored) whose output is re-keyed to camelCase.
 * Later sections (capture, retention, gateway, ...) are added as siblings in `configSchema`.
 */

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A strict snake_case section with camelCase output. Only this object's own keys are renamed,
 * so user-chosen names in nested maps (header names, route names) stay as written.
 */
function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape).transform((value) => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[camelCase(key)] = v;
    return out as CamelKeys<typeof value>;
  });
}

/** Relative paths are taken from the config file's directory, so a file means the same from any cwd. */
function filePath(baseDir: string) {
  return z
    .string()
    .min(1)
    .transform((p) => resolve(baseDir, p));
}

export const STORE_TYPES = ['sqlite', 'jsonl', 'memory'] as const;
export const DIGEST_ALGORITHMS = ['hmac-sha256', 'sha256'] as const;

const DEFAULT_STORE_PATH: Record<(typeof STORE_TYPES)[number], string> = {
  sqlite: 'llm-ledger.db',
  jsonl: 'llm-ledger-jsonl',
  // Unused by the memory store; kept so `path` is always a string.
  memory: 'llm-ledger.db',
};

// The origin is the first line of every signed checkpoint note, so it must be one printable line.
const origin = z
  .string()
  .min(1)
  .regex(/^\P{C}+$/u, { message: 'must be one printable line: no newline or control characters' });

export function configSchema(baseDir: string) {
  const store = section({
    type: z.enum(STORE_TYPES).default('sqlite'),
    path: filePath(baseDir).optional(),
    max_file_bytes: z.int().min(4096).default(104_857_600),
  }).transform(({ path, ...rest }) => ({ ...rest, path: path ?? resolve(baseDir, DEFAULT_STORE_PATH[rest.type]) }));

  const log = section({
    origin: origin.default('llm-ledger.local/default'),
    signing_key_file: filePath(baseDir).default(resolve(baseDir, 'llm-ledger.key')),
    checkpoint_interval_ms: z.int().min(0).default(1000),
    // No default: without an anchor, verify says truncation cannot be detected.
    anchor: section({ path: filePath(baseDir) }).optional(),
  });

  const writer = section({
    max_batch: z.int().min(1).max(100_000).default(2048),
    max_wait_ms: z.int().min(0).max(1000).default(1),
  });

  const digest = section({
    algorithm: z.enum(DIGEST_ALGORITHMS).default('hmac-sha256'),
    key_file: filePath(baseDir).default(resolve(baseDir, 'llm-ledger.digest-key')),
  });

  const limits = section({
    max_metadata_bytes: z.int().min(2).default(8192),
    max_error_chars: z.int().min(1).default(1024),
  });

  return z.strictObject({
    store: store.prefault({}),
    log: log.prefault({}),
    writer: writer.prefault({}),
    digest: digest.prefault({}),
    limits: limits.prefault({}),
  });
}

type ParsedConfig = z.output<ReturnType<typeof configSchema>>;

/** The loaded configuration: camelCase, every default filled in, every path absolute. */
export type LedgerConfig = Omit<ParsedConfig, 'digest'> & {
  digest: ParsedConfig['digest'] & {
    /** Key material (hex or base64) from LLM_LEDGER_DIGEST_KEY; never read from the file, so it is never committed with it. */
    key?: string;
  };
};

/** The configuration used when there is no file and no environment override, rooted at `cwd`. */
export function defaultConfig(cwd: string): LedgerConfig {
  return configSchema(cwd).parse({});
}

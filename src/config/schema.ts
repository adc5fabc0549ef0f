import { resolve } from 'node:path';
import * as z from 'zod';
import { BUILTIN_DETECTORS, createRedactor, RedactorConfigError, type CustomPattern } from '../capture/pii.js';
import { CREDENTIAL_HEADERS, isCredentialHeader } from '../capture/policy-headers.js';
import { CAPTURE_MODES, FIELD_CLASSES, keepsContent } from '../capture/policy-modes.js';
import { PRESET_DAYS, RETENTION_PRESETS, type RetentionDays } from './retention.js';
import { createPricing, PricingError } from '../providers/pricing.js';
import { canonicalVerifierKey, isVerifierKey } from '../log/checkpoint.js';
import { envName, section, sha256Hex } from './schema-parts.js';
import { policiesSchema, reviewSchema } from './schema-policies.js';
import { providerName, retrySchema, routeSchema } from './schema-routing.js';

/*
 * The whole configuration in one place. YAML keys are snake_case; every section is a strict
 * object (an unknown key is an error, never ignored) whose output is re-keyed to camelCase.
 * Later sections (gateway, ...) are added as siblings in `configSchema`.
 */

/** Relative paths are taken from the config file's directory, so a file means the same from any cwd. */
function filePath(baseDir: string) {
  return z
    .string()
    .min(1)
    .transform((p) => resolve(baseDir, p));
}

export const STORE_TYPES = ['sqlite', 'jsonl', 'memory', 'postgres'] as const;
/** `store.read_timeout_ms` when not set: reads may take longer than appends (a search over months, one batch of a scan). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;
export const DIGEST_ALGORITHMS = ['hmac-sha256', 'sha256'] as const;

const DEFAULT_STORE_PATH: Record<(typeof STORE_TYPES)[number], string> = {
  sqlite: 'llm-ledger.db',
  jsonl: 'llm-ledger-jsonl',
  // Unused by the memory and postgres stores; kept so `path` is always a string.
  memory: 'llm-ledger.db',
  postgres: 'llm-ledger.db',
};

/** A PostgreSQL connection URL; its password (if any) is never printed. */
const postgresUrl = z.string().refine((url) => URL.canParse(url) && /^postgres(ql)?:$/.test(new URL(url).protocol), {
  message: 'must be a PostgreSQL URL such as postgres://llm_ledger@db.internal:5432/audit (put the password in PGPASSWORD or ${VARIABLE}, not in this file)',
});

/** A lowercase SQL identifier: it also prefixes the store's role names, so it is kept short. */
const postgresSchemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,39}$/, { message: 'must be a lowercase SQL name of at most 40 letters, digits and _ (it also prefixes the role names)' });

// The origin is the first line of every signed checkpoint note, so it must be one printable line.
const origin = z
  .string()
  .min(1)
  .regex(/^\P{C}+$/u, { message: 'must be one printable line: no newline or control characters' });

// A signing key pasted here by mistake is named as such (and, like every value, never printed).
const verifierKey = z
  .string()
  .refine((key) => !key.startsWith('PRIVATE+KEY+'), {
    message: "is the private signing key, which signs checkpoints and must stay secret: put the public key that 'llm-ledger keys verifier' prints here instead",
    abort: true,
  })
  .refine((key) => isVerifierKey(key), {
    message: "must be the ledger's verifier key, as 'llm-ledger keys verifier' prints it (<name>+<8 hex digits>+<base64 key>)",
  })
  .transform(canonicalVerifierKey);

// RFC 9110 token characters: anything else is not a header name a request could carry.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerName = z
  .string()
  .regex(HEADER_NAME, { message: 'must be an HTTP header name (letters, digits and - _ . and the like, no spaces or colons)' })
  .refine((name) => !isCredentialHeader(name), {
    message: `must not name a credential header: ${CREDENTIAL_HEADERS.join(', ')} and any name containing key, token, secret, auth, passw or credential are never kept; remove it`,
  });

/** Whole days, or the word `forever`; zod's own "Invalid input" for the union says neither. */
const retentionDays = z.union([z.int().min(0).max(36_500), z.literal('forever')], { error: "must be a whole number of days (0 to 36500) or 'forever'" });

/** A custom PII pattern is checked by the redactor itself at load, so a bad one fails start-up, not the first request. */
function checkCustomPatterns(
  pii: { detectors: readonly (typeof BUILTIN_DETECTORS)[number][]; custom: readonly CustomPattern[] },
  ctx: z.core.$RefinementCtx,
): void {
  let custom = [...pii.custom];
  // One pattern per round: each failure is reported, then left out so the others are checked too.
  for (let round = 0; round <= pii.custom.length; round++) {
    try {
      createRedactor({ detectors: pii.detectors, custom });
      return;
    } catch (err) {
      if (!(err instanceof RedactorConfigError)) throw err;
      const at = custom.findLastIndex((p) => p.name === err.detector);
      const index = pii.custom.indexOf(custom[at]!);
      if (at < 0 || index < 0) {
        ctx.addIssue({ code: 'custom', path: ['pii', 'custom'], message: `are refused: ${err.message}` });
        return;
      }
      // The redactor's message says which part is wrong; point at that key.
      const key = /^Custom pattern "[^"]*": (name|flags)\b/.exec(err.message)?.[1] ?? 'pattern';
      ctx.addIssue({ code: 'custom', path: ['pii', 'custom', index, key], message: `is refused: ${err.message}` });
      custom = custom.filter((_, i) => i !== at);
    }
  }
}

export function configSchema(baseDir: string) {
  const store = section({
    type: z.enum(STORE_TYPES).default('sqlite'),
    path: filePath(baseDir).optional(),
    max_file_bytes: z.int().min(4096).default(104_857_600),
    // PostgreSQL only: where the database is, and the schema that holds this ledger (and names its roles).
    url: postgresUrl.optional(),
    schema: postgresSchemaName.default('llm_ledger'),
    // How long an append may take, from the call to its commit (waiting for a connection included): then it fails
    // with a StoreError and gateway.on_store_failure applies. PostgreSQL enforces it on the connection, and the
    // gateway holds every store to it (a sync answer waits no longer, /health reports a store that takes longer).
    append_timeout_ms: z.int().min(100).max(600_000).default(5000),
    // PostgreSQL only: how long any other statement may run (a read, one batch of a scan).
    read_timeout_ms: z.int().min(100).max(3_600_000).optional(),
  })
    .superRefine((store, ctx) => {
      if (store.type !== 'postgres' && store.readTimeoutMs !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['read_timeout_ms'],
          message: `is set, but store.type is ${store.type}, which does not use it (it bounds PostgreSQL's statements); remove it`,
        });
      }
      if (store.type === 'postgres' && store.url === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message: 'is required with store.type: postgres: the connection URL, e.g. postgres://llm_ledger@127.0.0.1:5432/audit (or set LLM_LEDGER_STORE_URL)',
        });
      }
      if (store.type !== 'postgres' && store.url !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message: `is set, but store.type is ${store.type}, which does not use it; set store.type: postgres or remove url`,
        });
      }
    })
    .transform(({ path, readTimeoutMs, ...rest }) => ({
      ...rest,
      path: path ?? resolve(baseDir, DEFAULT_STORE_PATH[rest.type]),
      readTimeoutMs: readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    }));

  const log = section({
    origin: origin.default('llm-ledger.local/default'),
    signing_key_file: filePath(baseDir).default(resolve(baseDir, 'llm-ledger.key')),
    // Public: lets auditors check the checkpoints without holding the key that signs them.
    verifier_key: verifierKey.optional(),
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

  const pii = section({
    // Default: on whenever some class stores content (resolved in `capture` below).
    enabled: z.boolean().optional(),
    detectors: z.array(z.enum(BUILTIN_DETECTORS)).default([...BUILTIN_DETECTORS]),
    custom: z.array(section({ name: z.string().min(1), pattern: z.string().min(1), flags: z.string().optional() })).default([]),
  });

  const capture = section({
    prompts: z.enum(CAPTURE_MODES).default('hash'),
    responses: z.enum(CAPTURE_MODES).default('hash'),
    // Headers: none by default, since headers_allow starts empty and a digest of nothing tells nothing.
    headers: z.enum(CAPTURE_MODES).default('none'),
    allow_plaintext: z.boolean().default(false),
    exclude_models: z.array(z.string().min(1)).default([]),
    // Per stored field. The upper bound keeps one call's content within what a row should hold.
    max_body_size: z.int().min(1).max(67_108_864).default(1_048_576),
    headers_allow: z.array(headerName).default([]),
    pii: pii.prefault({}),
  })
    .superRefine((capture, ctx) => {
      for (const field of FIELD_CLASSES) {
        if (capture[field] !== 'plaintext' || capture.allowPlaintext) continue;
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message:
            "may be 'plaintext' only with capture.allow_plaintext: true (anyone who can read the store could read the text); set that, or use 'encrypted'",
        });
      }
      checkCustomPatterns(capture.pii, ctx);
    })
    .transform(({ pii, ...rest }) => ({
      ...rest,
      pii: { ...pii, enabled: pii.enabled ?? FIELD_CLASSES.some((field) => keepsContent(rest[field])) },
    }));

  const encryption = section({
    // Read when kek_file is not set; its value is the key itself, so it never sits in this file.
    kek_env: envName.default('LLM_LEDGER_KEK'),
    // When set, the current key-encryption key (a 0600 file) instead of the variable.
    kek_file: filePath(baseDir).optional(),
    // Key-encryption keys from before a rotation, oldest first: they only unwrap older data keys.
    previous_kek_files: z.array(filePath(baseDir)).default([]),
  });

  const retention = section({
    preset: z.enum(RETENTION_PRESETS).default('standard'),
    content_days: retentionDays.optional(),
    envelope_days: retentionDays
      .refine((days) => days !== 0, { message: "must be at least 1 or 'forever': 0 would delete the audit trail at every cleanup" })
      .optional(),
    // At most what a Node timer can wait (2^31 - 1 ms, about 24.8 days).
    cleanup_interval_ms: z.int().min(1000).max(2_147_483_647).default(3_600_000),
    batch_size: z.int().min(1).max(100_000).default(1000),
  })
    .superRefine(({ preset, contentDays, envelopeDays }, ctx) => {
      const content = contentDays ?? PRESET_DAYS[preset].content;
      const envelope = envelopeDays ?? PRESET_DAYS[preset].envelope;
      if (!outlives(content, envelope)) return;
      // Point at the value the user wrote; the other one came from the preset.
      if (contentDays !== undefined) {
        const source = envelopeDays === undefined ? ` from preset ${preset}` : '';
        ctx.addIssue({
          code: 'custom',
          path: ['content_days'],
          message: `must not exceed retention.envelope_days (${envelope}${source}): content is removed with its envelope`,
        });
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['envelope_days'],
          message: `must not be shorter than retention.content_days (${content} from preset ${preset}): content is removed with its envelope; lower content_days too`,
        });
      }
    })
    .transform(({ contentDays, envelopeDays, ...rest }) => ({
      ...rest,
      contentDays: contentDays ?? PRESET_DAYS[rest.preset].content,
      envelopeDays: envelopeDays ?? PRESET_DAYS[rest.preset].envelope,
    }));

  return z
    .strictObject({
      store: store.prefault({}),
      log: log.prefault({}),
      writer: writer.prefault({}),
      digest: digest.prefault({}),
      limits: limits.prefault({}),
      capture: capture.prefault({}),
      encryption: encryption.prefault({}),
      retention: retention.prefault({}),
      gateway: gatewaySection(baseDir).prefault({}),
    })
    .superRefine((config, ctx) => {
      config.gateway.policies.forEach((p, i) => {
        if ('review' in p && p.review?.mode === 'async' && config.capture.prompts === 'none') {
          ctx.addIssue({
            code: 'custom',
            path: ['gateway', 'policies', i, 'review', 'mode'],
            message:
              "is async, which recognises the approved request when it is sent again by its prompt's digest; capture.prompts: none keeps no digest: use mode: hold, or capture.prompts: hash",
          });
        }
      });
    });
}

export const WIRE_FORMATS = ['openai', 'anthropic'] as const;
export const GATEWAY_AUTH = ['pass_through', 'gateway_keys'] as const;
export const GATEWAY_DURABILITY = ['batched', 'sync'] as const;
export const STORE_FAILURE_MODES = ['fail_closed', 'spool'] as const;

/** Without a `providers` section the gateway reaches the public APIs, with the clients' own keys. */
const DEFAULT_PROVIDERS = {
  openai: { format: 'openai', baseUrl: 'https://api.openai.com' },
  anthropic: { format: 'anthropic', baseUrl: 'https://api.anthropic.com' },
} as const;

/** The gateway (`llm-ledger serve`): listener, identity, upstreams, routing, durability. */
function gatewaySection(baseDir: string) {
  const provider = section({
    // The wire format it speaks; a provider named openai or anthropic speaks its own.
    format: z.enum(WIRE_FORMATS).optional(),
    // What `/v1/...` is appended to; a trailing `/v1` is not repeated.
    base_url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. https://api.openai.com' })
      .transform((url) => url.replace(/\/+$/, '').replace(/\/v1$/, '')),
    // Write `${OPENAI_API_KEY}`: the key then lives in the environment, never in this file.
    api_key: z.string().min(1).optional(),
  });
  const key = section({
    // SHA-256 of the gateway key, hex: the key itself never sits in this file.
    sha256: sha256Hex.optional(),
    // Or the name of an environment variable holding the key, read when the gateway starts.
    env: envName.optional(),
    user: z.string().min(1).max(256).optional(),
    team: z.string().min(1).max(256).optional(),
  }).refine((k) => (k.sha256 === undefined) !== (k.env === undefined), {
    message: "needs exactly one of sha256 (the key's SHA-256, hex) or env (a variable holding the key)",
  });
  const price = section({
    input: z.number().min(0).optional(),
    output: z.number().min(0).optional(),
    cached_input: z.number().min(0).optional(),
    cache_write: z.number().min(0).optional(),
    reasoning: z.number().min(0).optional(),
    reasoning_included_in_output: z.boolean().optional(),
  });

  return section({
    // The gateway listens on 127.0.0.1 only; put a TLS-terminating reverse proxy in front to expose it.
    port: z.int().min(0).max(65_535).default(8787),
    auth: z.enum(GATEWAY_AUTH).default('pass_through'),
    keys: z.array(key).default([]),
    providers: z
      .record(providerName, provider)
      .optional()
      .transform((providers) => providers ?? DEFAULT_PROVIDERS),
    // First match wins; a model no route matches goes to the first provider speaking the endpoint's format.
    models: z.array(routeSchema).default([]),
    // Retries of failed attempts, for every route (a route's own retry block overrides it).
    retry: retrySchema.prefault({}),
    // The whole upstream exchange, from sending the request to the last byte of the answer.
    request_timeout_ms: z.int().min(1).max(3_600_000).default(600_000),
    // Checked in order at the request and response checkpoints; see docs/governance.md.
    policies: policiesSchema,
    // A policy that has not decided by then counts as BLOCK.
    policy_timeout_ms: z.int().min(1).max(60_000).default(1000),
    // Streamed answers: how many characters of the newest text are held back while response policies check it.
    stream_window_chars: z.int().min(0).max(65_536).default(256),
    review: reviewSchema.prefault({}),
    max_request_bytes: z.int().min(1024).max(1_073_741_824).default(33_554_432),
    durability: z.enum(GATEWAY_DURABILITY).default('batched'),
    // Batched: the records of calls that end within this many ms are sealed and handed to the writer together (0: each call's at once).
    batch_window_ms: z.int().min(0).max(1000).default(5),
    on_store_failure: z.enum(STORE_FAILURE_MODES).default('fail_closed'),
    spool_file: filePath(baseDir).default(resolve(baseDir, 'llm-ledger.spool')),
    retry_interval_ms: z.int().min(10).max(600_000).default(1000),
    // How long a stop (SIGTERM, SIGINT) waits for requests in flight before cutting them off.
    shutdown_timeout_ms: z.int().min(0).max(3_600_000).default(30_000),
    // USD per million tokens, over the built-in table: { gpt-4o: { input: 2.5, output: 10 } }.
    pricing: z.record(z.string().min(1).max(256), price).default({}),
  })
    .superRefine((gateway, ctx) => {
      for (const [name, p] of Object.entries(gateway.providers)) {
        if (p.format === undefined && name !== 'openai' && name !== 'anthropic') {
          ctx.addIssue({
            code: 'custom',
            path: ['providers', name, 'format'],
            message: `is required for a provider not named openai or anthropic: the wire format it speaks, ${WIRE_FORMATS.join(' or ')}`,
          });
        }
        if (gateway.auth === 'gateway_keys' && p.apiKey === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['providers', name, 'api_key'],
            message:
              'is required with auth: gateway_keys (clients present gateway keys; the gateway calls the provider with this one); write api_key: ${VARIABLE}',
          });
        }
        if (gateway.auth === 'pass_through' && p.apiKey !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['providers', name, 'api_key'],
            message: "must not be set with auth: pass_through, where each client's own key goes upstream; set auth: gateway_keys to use it",
          });
        }
      }
      if (gateway.auth === 'gateway_keys' && gateway.keys.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['keys'], message: 'needs at least one key with auth: gateway_keys, or no client could call the gateway' });
      }
      if (gateway.auth === 'pass_through' && gateway.keys.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['auth'],
          message: 'is pass_through, but gateway.keys are configured and would be ignored; set auth: gateway_keys',
        });
      }
      const seen = new Set<string>();
      gateway.keys.forEach((k, i) => {
        if (k.sha256 === undefined) return;
        if (seen.has(k.sha256)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'sha256'], message: 'repeats an earlier key: each key maps to one identity' });
        seen.add(k.sha256);
      });
      gateway.models.forEach((r, i) => {
        r.targets.forEach((t, j) => {
          if (t.provider in gateway.providers) return;
          const path = r.targets.length === 1 && t.model === undefined ? ['models', i] : ['models', i, 'providers', j];
          ctx.addIssue({
            code: 'custom',
            path,
            message: `names provider "${t.provider}", which is not configured; configured: ${Object.keys(gateway.providers).join(', ')}`,
          });
        });
      });
      gateway.models.forEach((r, i) => {
        const providers: Record<string, { format?: string }> = gateway.providers;
        const formats = new Set(r.targets.map((t) => providers[t.provider]?.format ?? t.provider));
        if (formats.size > 1)
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'providers'],
            message:
              "mixes providers of the openai and anthropic formats; the gateway forwards the client's own wire format, so every provider of a route must speak the same one",
          });
      });
      gateway.policies.forEach((p, i) => {
        if ('action' in p && p.action === 'escalate' && gateway.review.reviewers.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['policies', i, 'action'],
            message: 'is escalate, but gateway.review.reviewers is empty: nobody could decide the reviews; add a reviewer',
          });
        }
      });
      for (const [model, p] of Object.entries(gateway.pricing)) {
        try {
          createPricing({ [model]: p });
        } catch (err) {
          if (!(err instanceof PricingError)) throw err;
          ctx.addIssue({ code: 'custom', path: ['pricing', model], message: `is refused: ${err.message}` });
        }
      }
    })
    .transform(({ providers, ...rest }) => ({
      ...rest,
      providers: Object.fromEntries(
        Object.entries(providers).map(([name, p]) => [name, { ...p, format: p.format ?? (name as (typeof WIRE_FORMATS)[number]) }]),
      ) as Record<string, { format: (typeof WIRE_FORMATS)[number]; baseUrl: string; apiKey?: string }>,
    }));
}

function outlives(content: RetentionDays, envelope: RetentionDays): boolean {
  if (envelope === 'forever') return false;
  return content === 'forever' || content > envelope;
}

type ParsedConfig = z.output<ReturnType<typeof configSchema>>;

/** The retry settings as written: each field optional, filled from the defaults when routes are resolved. */
export type RetryConfig = ParsedConfig['gateway']['retry'];

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

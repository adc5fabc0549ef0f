import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS } from '../capture/pii.js';
import { configSchema, defaultConfig } from './schema.js';

describe('defaultConfig', () => {
  it('is SQLite in the given directory, hmac digests, no anchor, with every value filled in', () => {
    expect(defaultConfig('/srv/app')).toEqual({
      store: { type: 'sqlite', path: '/srv/app/llm-ledger.db', maxFileBytes: 104_857_600, schema: 'llm_ledger', appendTimeoutMs: 5000, readTimeoutMs: 30_000 },
      log: { origin: 'llm-ledger.local/default', signingKeyFile: '/srv/app/llm-ledger.key', checkpointIntervalMs: 1000 },
      writer: { maxBatch: 2048, maxWaitMs: 1 },
      digest: { algorithm: 'hmac-sha256', keyFile: '/srv/app/llm-ledger.digest-key' },
      limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
      capture: {
        prompts: 'hash',
        responses: 'hash',
        headers: 'none',
        allowPlaintext: false,
        excludeModels: [],
        maxBodySize: 1_048_576,
        headersAllow: [],
        pii: { enabled: false, detectors: [...BUILTIN_DETECTORS], custom: [] },
      },
      encryption: { kekEnv: 'LLM_LEDGER_KEK', previousKekFiles: [] },
      retention: { preset: 'standard', contentDays: 90, envelopeDays: 365, cleanupIntervalMs: 3_600_000, batchSize: 1000 },
      // The gateway section's defaults are specified in schema-gateway.test.ts.
      gateway: expect.any(Object),
    });
  });

  it('has no anchor, digest key or KEK file property at all, not even undefined ones', () => {
    const config = defaultConfig('/srv/app');
    expect('anchor' in config.log).toBe(false);
    expect('key' in config.digest).toBe(false);
    expect('kekFile' in config.encryption).toBe(false);
  });
});

describe('configSchema', () => {
  const schema = configSchema('/base');

  it('reads snake_case YAML keys and produces camelCase', () => {
    const config = schema.parse({ store: { max_file_bytes: 4096 }, log: { checkpoint_interval_ms: 0 }, writer: { max_wait_ms: 0 } });
    expect(config.store.maxFileBytes).toBe(4096);
    expect(config.log.checkpointIntervalMs).toBe(0);
    expect(config.writer.maxWaitMs).toBe(0);
  });

  it('defaults the jsonl store to a directory of its own', () => {
    expect(schema.parse({ store: { type: 'jsonl' } }).store.path).toBe('/base/llm-ledger-jsonl');
    expect(schema.parse({ store: { type: 'jsonl', path: 'logs' } }).store.path).toBe('/base/logs');
  });

  it('resolves every relative path against the base directory and keeps absolute ones', () => {
    const config = schema.parse({
      store: { path: 'data/ledger.db' },
      log: { signing_key_file: '../keys/sign.key', anchor: { path: '/mnt/worm/anchor' } },
      digest: { key_file: 'digest.key' },
    });
    expect(config.store.path).toBe('/base/data/ledger.db');
    expect(config.log.signingKeyFile).toBe('/keys/sign.key');
    expect(config.log.anchor).toEqual({ path: '/mnt/worm/anchor' });
    expect(config.digest.keyFile).toBe('/base/digest.key');
  });

  it.each([
    ['store.max_file_bytes below 4096', { store: { max_file_bytes: 4095 } }],
    ['writer.max_batch of 0', { writer: { max_batch: 0 } }],
    ['writer.max_batch above 100000', { writer: { max_batch: 100_001 } }],
    ['writer.max_wait_ms above 1000', { writer: { max_wait_ms: 1001 } }],
    ['a negative checkpoint interval', { log: { checkpoint_interval_ms: -1 } }],
    ['a fractional number', { limits: { max_error_chars: 10.5 } }],
    ['an empty origin', { log: { origin: '' } }],
    ['an origin with a newline', { log: { origin: 'a\nb' } }],
    ['an origin with a control character', { log: { origin: 'a\u0007b' } }],
    ['an empty path', { store: { path: '' } }],
    ['an anchor without path', { log: { anchor: {} } }],
    ['an empty section', { store: null }],
  ])('rejects %s', (_, input) => {
    expect(schema.safeParse(input).success).toBe(false);
  });

  it('accepts the boundaries of every range', () => {
    const config = schema.parse({
      store: { max_file_bytes: 4096 },
      writer: { max_batch: 100_000, max_wait_ms: 1000 },
      log: { checkpoint_interval_ms: 0, origin: 'example.com/log/ünicode 1' },
    });
    expect(config.writer.maxBatch).toBe(100_000);
  });
});

describe('store: postgres', () => {
  const schema = configSchema('/base');
  const url = 'postgres://ledger@db.internal:5432/audit';

  it('takes a connection URL and a schema, which defaults to llm_ledger', () => {
    expect(schema.parse({ store: { type: 'postgres', url } }).store).toMatchObject({ type: 'postgres', url, schema: 'llm_ledger' });
    expect(schema.parse({ store: { type: 'postgres', url: 'postgresql://127.0.0.1/x', schema: 'audit_eu' } }).store.schema).toBe('audit_eu');
  });

  it('bounds appends (5 s) and other statements (30 s) by default; both can be set', () => {
    expect(schema.parse({ store: { type: 'postgres', url } }).store).toMatchObject({ appendTimeoutMs: 5000, readTimeoutMs: 30_000 });
    expect(schema.parse({ store: { type: 'postgres', url, append_timeout_ms: 1000, read_timeout_ms: 120_000 } }).store).toMatchObject({
      appendTimeoutMs: 1000,
      readTimeoutMs: 120_000,
    });
    // Every store: the gateway holds any store's appends to it.
    expect(schema.parse({ store: { type: 'sqlite', append_timeout_ms: 2000 } }).store.appendTimeoutMs).toBe(2000);
  });

  const messageOf = (input: Record<string, unknown>) => {
    const result = schema.safeParse({ store: input });
    return result.success ? undefined : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };

  it.each([
    ['no url', { type: 'postgres' }, /store\.url: is required with store\.type: postgres/],
    ['a url of another scheme', { type: 'postgres', url: 'mysql://db/x' }, /store\.url: must be a PostgreSQL URL/],
    ['a url that is not one', { type: 'postgres', url: 'db.internal:5432' }, /store\.url: must be a PostgreSQL URL/],
    ['a url for another store type', { type: 'sqlite', url }, /store\.url: is set, but store\.type is sqlite/],
    ['a schema name with capitals', { type: 'postgres', url, schema: 'Audit' }, /store\.schema: must be a lowercase SQL name/],
    ['a schema name that could inject SQL', { type: 'postgres', url, schema: 'x; drop table y' }, /store\.schema: must be a lowercase SQL name/],
    ['a schema name too long for its role names', { type: 'postgres', url, schema: 'a'.repeat(41) }, /store\.schema: must be a lowercase SQL name/],
    ['an append time limit below 100 ms', { type: 'postgres', url, append_timeout_ms: 99 }, /store\.append_timeout_ms: /],
    [
      'a read time limit for another store type',
      { type: 'sqlite', read_timeout_ms: 60_000 },
      /store\.read_timeout_ms: is set, but store\.type is sqlite, which does not use it/,
    ],
  ])('rejects %s, saying what to do', (_, input, message) => {
    expect(messageOf(input)).toMatch(message);
  });
});

describe('capture', () => {
  const schema = configSchema('/base');
  const capture = (input: Record<string, unknown>) => schema.parse({ capture: input }).capture;

  it('turns PII redaction on by default exactly when some class stores content', () => {
    expect(capture({}).pii.enabled).toBe(false);
    expect(capture({ prompts: 'encrypted' }).pii.enabled).toBe(true);
    expect(capture({ headers: 'encrypted', headers_allow: ['user-agent'] }).pii.enabled).toBe(true);
    expect(capture({ responses: 'plaintext', allow_plaintext: true }).pii.enabled).toBe(true);
    expect(capture({ prompts: 'encrypted', pii: { enabled: false } }).pii.enabled).toBe(false);
    expect(capture({ pii: { enabled: true } }).pii.enabled).toBe(true);
  });

  it('keeps header names, model patterns and custom patterns as written', () => {
    const config = capture({
      headers_allow: ['User-Agent', 'x-request-id'],
      exclude_models: ['claude-*'],
      pii: { detectors: ['email'], custom: [{ name: 'patient_id', pattern: 'PAT-\\d+', flags: 'i' }] },
    });
    expect(config.headersAllow).toEqual(['User-Agent', 'x-request-id']);
    expect(config.excludeModels).toEqual(['claude-*']);
    expect(config.pii).toEqual({ enabled: false, detectors: ['email'], custom: [{ name: 'patient_id', pattern: 'PAT-\\d+', flags: 'i' }] });
  });

  it('accepts plaintext only with allow_plaintext', () => {
    expect(capture({ prompts: 'plaintext', allow_plaintext: true }).prompts).toBe('plaintext');
    expect(schema.safeParse({ capture: { prompts: 'plaintext' } }).success).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an unknown mode', { prompts: 'encrypt' }],
    ['max_body_size 0', { max_body_size: 0 }],
    ['max_body_size above 64 MiB', { max_body_size: 67_108_865 }],
    ['an empty model pattern', { exclude_models: [''] }],
    ['an unknown detector', { pii: { detectors: ['passport'] } }],
    ['a custom pattern with nested repetition', { pii: { custom: [{ name: 'x', pattern: '(a+)+' }] } }],
    ['a custom pattern named like a built-in', { pii: { custom: [{ name: 'email', pattern: 'x' }] } }],
    [
      'two custom patterns with one name',
      {
        pii: {
          custom: [
            { name: 'x', pattern: 'a' },
            { name: 'x', pattern: 'b' },
          ],
        },
      },
    ],
    ['a header name with a space', { headers_allow: ['user agent'] }],
    ...[
      'authorization',
      'Proxy-Authorization',
      'x-api-key',
      'api-key',
      'Cookie',
      'set-cookie',
      'x-goog-api-key',
      'x-amz-security-token',
      'x-client-secret',
      'x-auth-user',
    ].map((name): [string, Record<string, unknown>] => [`the credential header ${name}`, { headers_allow: [name] }]),
  ])('rejects %s', (_, input) => {
    expect(schema.safeParse({ capture: input }).success).toBe(false);
  });
});

describe('encryption', () => {
  const schema = configSchema('/base');

  it('reads the KEK from LLM_LEDGER_KEK unless told otherwise, and resolves key files against the base directory', () => {
    const config = schema.parse({ encryption: { kek_env: 'MY_KEK', kek_file: 'keys/kek', previous_kek_files: ['keys/old-kek', '/abs/older'] } }).encryption;
    expect(config).toEqual({ kekEnv: 'MY_KEK', kekFile: '/base/keys/kek', previousKekFiles: ['/base/keys/old-kek', '/abs/older'] });
  });

  it.each(['', '1KEK', 'MY-KEK', 'A B'])('rejects %j as a variable name', (kekEnv) => {
    expect(schema.safeParse({ encryption: { kek_env: kekEnv } }).success).toBe(false);
  });
});

describe('retention', () => {
  const schema = configSchema('/base');
  const retention = (input: Record<string, unknown>) => schema.parse({ retention: input }).retention;

  it('resolves each preset to its documented periods', () => {
    expect(retention({})).toMatchObject({ preset: 'standard', contentDays: 90, envelopeDays: 365 });
    expect(retention({ preset: 'hipaa' })).toMatchObject({ contentDays: 90, envelopeDays: 2192 });
    expect(retention({ preset: 'gdpr' })).toMatchObject({ contentDays: 30, envelopeDays: 180 });
  });

  it('lets explicit periods override the preset, including forever and content 0', () => {
    expect(retention({ preset: 'gdpr', content_days: 7 })).toMatchObject({ contentDays: 7, envelopeDays: 180 });
    expect(retention({ envelope_days: 'forever', content_days: 'forever' })).toMatchObject({ contentDays: 'forever', envelopeDays: 'forever' });
    expect(retention({ content_days: 0, envelope_days: 1 })).toMatchObject({ contentDays: 0, envelopeDays: 1 });
  });

  it.each([
    ['an unknown preset', { preset: 'sox' }],
    ['envelope_days 0', { envelope_days: 0 }],
    ['negative days', { content_days: -1 }],
    ['fractional days', { content_days: 1.5 }],
    ['days as other words', { content_days: 'never' }],
    ['content kept longer than its envelope', { content_days: 400 }],
    ['content kept forever with envelopes that expire', { content_days: 'forever' }],
    ['an envelope period shorter than the preset content period', { preset: 'standard', envelope_days: 30 }],
    ['a cleanup interval below a second', { cleanup_interval_ms: 999 }],
    ['a cleanup interval beyond a Node timer', { cleanup_interval_ms: 2_147_483_648 }],
    ['batch_size 0', { batch_size: 0 }],
  ])('rejects %s', (_, input) => {
    expect(schema.safeParse({ retention: input }).success).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { configSchema, defaultConfig } from './schema.js';

describe('defaultConfig', () => {
  it('is SQLite in the given directory, hmac digests, no anchor, with every value filled in', () => {
    expect(defaultConfig('/srv/app')).toEqual({
      store: { type: 'sqlite', path: '/srv/app/llm-ledger.db', maxFileBytes: 104_857_600 },
      log: { origin: 'llm-ledger.local/default', signingKeyFile: '/srv/app/llm-ledger.key', checkpointIntervalMs: 1000 },
      writer: { maxBatch: 2048, maxWaitMs: 1 },
      digest: { algorithm: 'hmac-sha256', keyFile: '/srv/app/llm-ledger.digest-key' },
      limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
    });
  });

  it('has no anchor and no digest key property at all, not even undefined ones', () => {
    const config = defaultConfig('/srv/app');
    expect('anchor' in config.log).toBe(false);
    expect('key' in config.digest).toBe(false);
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

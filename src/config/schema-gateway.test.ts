import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfig } from './load.js';
import { defaultConfig } from './schema.js';

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, { env, cwd: '/work', baseDir: '/etc/ledger' });

function messages(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parse(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const KEY_HASH = 'a'.repeat(64);

describe('gateway configuration', () => {
  it('defaults to pass-through to the public OpenAI and Anthropic APIs, batched, failing closed', () => {
    expect(defaultConfig('/srv/app').gateway).toEqual({
      port: 8787,
      auth: 'pass_through',
      keys: [],
      providers: {
        openai: { format: 'openai', baseUrl: 'https://api.openai.com' },
        anthropic: { format: 'anthropic', baseUrl: 'https://api.anthropic.com' },
      },
      models: [],
      retry: {},
      requestTimeoutMs: 600_000,
      policies: [],
      policyTimeoutMs: 1000,
      streamWindowChars: 256,
      review: { reviewers: [], pollIntervalMs: 1000, approvalTtlMs: 86_400_000 },
      maxRequestBytes: 33_554_432,
      durability: 'batched',
      batchWindowMs: 5,
      onStoreFailure: 'fail_closed',
      spoolFile: '/srv/app/llm-ledger.spool',
      retryIntervalMs: 1000,
      shutdownTimeoutMs: 30_000,
      pricing: {},
    });
  });

  it('reads providers with keys from the environment, routes, gateway keys and prices', () => {
    const config = parse(
      `
gateway:
  auth: gateway_keys
  keys:
    - { sha256: ${KEY_HASH.toUpperCase()}, user: alice, team: risk }
    - { env: BATCH_KEY, team: batch }
  providers:
    openai: { base_url: 'https://api.openai.com/v1/', api_key: '\${OPENAI_API_KEY}' }
    local-vllm: { format: openai, base_url: 'http://127.0.0.1:8000', api_key: none-needed }
  models:
    - { match: 'llama-*', provider: local-vllm }
  durability: sync
  on_store_failure: spool
  spool_file: spool/gw.spool
  pricing:
    llama-3-70b: { input: 0.5, output: 1.5 }
    gpt-4o: { cached_input: 1 }
`,
      { OPENAI_API_KEY: 'sk-from-env' },
    );
    expect(config.gateway).toMatchObject({
      auth: 'gateway_keys',
      keys: [
        { sha256: KEY_HASH, user: 'alice', team: 'risk' },
        { env: 'BATCH_KEY', team: 'batch' },
      ],
      providers: {
        openai: { format: 'openai', baseUrl: 'https://api.openai.com', apiKey: 'sk-from-env' },
        'local-vllm': { format: 'openai', baseUrl: 'http://127.0.0.1:8000', apiKey: 'none-needed' },
      },
      models: [{ match: 'llama-*', targets: [{ provider: 'local-vllm' }] }],
      durability: 'sync',
      onStoreFailure: 'spool',
      spoolFile: '/etc/ledger/spool/gw.spool',
      pricing: { 'llama-3-70b': { input: 0.5, output: 1.5 }, 'gpt-4o': { cachedInput: 1 } },
    });
  });

  it.each([
    ['an unknown key, with a suggestion', 'gateway:\n  durabilty: sync\n', /Unknown key 'gateway.durabilty' — did you mean 'durability'\?/],
    [
      'a provider of unknown format without a format',
      "gateway:\n  providers:\n    mistral: { base_url: 'https://api.mistral.ai' }\n",
      /gateway.providers.mistral.format is required .* openai or anthropic/,
    ],
    [
      'a base URL that is not http(s)',
      "gateway:\n  providers:\n    openai: { base_url: 'ftp://x' }\n",
      /gateway.providers.openai.base_url must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'a route to a provider that is not configured',
      "gateway:\n  models:\n    - { match: 'gpt-*', provider: azure }\n",
      /gateway.models\[0\] names provider "azure", which is not configured; configured: openai, anthropic/,
    ],
    [
      'gateway keys without auth: gateway_keys',
      `gateway:\n  keys:\n    - { sha256: ${KEY_HASH} }\n`,
      /gateway.auth is pass_through, but gateway.keys are configured .* set auth: gateway_keys/,
    ],
    [
      'auth: gateway_keys without keys',
      "gateway:\n  auth: gateway_keys\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: k }\n",
      /gateway.keys needs at least one key/,
    ],
    [
      'auth: gateway_keys with a provider lacking its key',
      `gateway:\n  auth: gateway_keys\n  keys: [{ sha256: ${KEY_HASH} }]\n`,
      /gateway.providers.openai.api_key is required with auth: gateway_keys/,
    ],
    [
      'a provider key with pass-through',
      "gateway:\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: k }\n",
      /gateway.providers.openai.api_key must not be set with auth: pass_through/,
    ],
    [
      'a key with both sha256 and env',
      `gateway:\n  auth: gateway_keys\n  keys: [{ sha256: ${KEY_HASH}, env: K }]\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: k }\n`,
      /needs exactly one of sha256 .* or env/,
    ],
    ['a key hash that is not SHA-256 hex', 'gateway:\n  auth: gateway_keys\n  keys: [{ sha256: abc }]\n', /must be the SHA-256 of the key as 64 hex digits/],
    [
      'the same key twice',
      `gateway:\n  auth: gateway_keys\n  keys: [{ sha256: ${KEY_HASH} }, { sha256: ${KEY_HASH} }]\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: k }\n`,
      /gateway.keys\[1\].sha256 repeats an earlier key/,
    ],
    [
      'a new model priced without output',
      'gateway:\n  pricing:\n    my-model: { input: 1 }\n',
      /gateway.pricing.my-model is refused: .*needs both input and output/,
    ],
    ['an unknown price field', 'gateway:\n  pricing:\n    gpt-4o: { inputs: 1 }\n', /Unknown key 'gateway.pricing.gpt-4o.inputs'/],
    ['an unknown durability', 'gateway:\n  durability: eventually\n', /gateway.durability must be one of 'batched', 'sync'/],
    ['an unknown failure mode', 'gateway:\n  on_store_failure: ignore\n', /gateway.on_store_failure must be one of 'fail_closed', 'spool'/],
  ])('rejects %s with a message naming the path', (_, yaml, expected) => {
    expect(messages(yaml)).toMatch(expected);
  });

  it('never repeats a provider key in an error message', () => {
    const message = messages("gateway:\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: 12345 }\n", {});
    expect(message).toMatch(/gateway.providers.openai.api_key must be a string; found a number \(value not shown\)/);
    expect(message).not.toContain('12345');
  });

  it('names the variable, never a value, when a key variable is unset', () => {
    expect(
      messages(
        'gateway:\n  auth: gateway_keys\n  keys: [{ sha256: ' +
          KEY_HASH +
          " }]\n  providers:\n    openai: { base_url: 'https://api.openai.com', api_key: '${OPENAI_API_KEY}' }\n",
      ),
    ).toMatch(/gateway.providers.openai.api_key uses environment variable OPENAI_API_KEY, which is not set/);
  });
});

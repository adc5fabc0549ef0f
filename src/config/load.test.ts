import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadConfig, parseConfig } from './load.js';
import { defaultConfig } from './schema.js';

const HEX_KEY = 'ab'.repeat(32);

/** Runs `parse` and returns the ConfigError it must throw. */
function configError(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, { env, cwd: '/work', baseDir: '/etc/ledger' });
const issuesOf = (yaml: string, env: NodeJS.ProcessEnv = {}) => configError(() => parse(yaml, env)).issues;

describe('finding the configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llm-ledger-config-'));
  });

  it('uses the defaults, rooted at cwd, when there is no file and none is named', () => {
    expect(loadConfig({ cwd: dir, env: {} })).toEqual(defaultConfig(dir));
  });

  it('reads ./llm-ledger.yaml from cwd when present', () => {
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'store:\n  type: jsonl\n');
    expect(loadConfig({ cwd: dir, env: {} }).store).toMatchObject({ type: 'jsonl', path: join(dir, 'llm-ledger-jsonl') });
  });

  it('treats an empty file as all defaults', () => {
    writeFileSync(join(dir, 'llm-ledger.yaml'), '# nothing yet\n');
    expect(loadConfig({ cwd: dir, env: {} })).toEqual(defaultConfig(dir));
  });

  it('reads a named file, relative to cwd, and resolves its paths against its own directory', () => {
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'ledger.yaml'), 'store:\n  path: data/ledger.db\nlog:\n  anchor:\n    path: ../anchor\n');
    const config = loadConfig({ path: 'conf/ledger.yaml', cwd: dir, env: {} });
    expect(config.store.path).toBe(join(dir, 'conf', 'data', 'ledger.db'));
    expect(config.log.anchor?.path).toBe(join(dir, 'anchor'));
    expect(config.digest.keyFile).toBe(join(dir, 'conf', 'llm-ledger.digest-key'));
  });

  it('reads the file named by LLM_LEDGER_CONFIG; an explicit path wins over it', () => {
    writeFileSync(join(dir, 'a.yaml'), 'writer:\n  max_batch: 1\n');
    writeFileSync(join(dir, 'b.yaml'), 'writer:\n  max_batch: 2\n');
    expect(loadConfig({ cwd: dir, env: { LLM_LEDGER_CONFIG: 'a.yaml' } }).writer.maxBatch).toBe(1);
    expect(loadConfig({ path: 'b.yaml', cwd: dir, env: { LLM_LEDGER_CONFIG: 'a.yaml' } }).writer.maxBatch).toBe(2);
  });

  it('fails when a named file does not exist, saying which file and how to create it', () => {
    const error = configError(() => loadConfig({ path: 'missing.yaml', cwd: dir, env: {} }));
    expect(error.message).toContain(join(dir, 'missing.yaml'));
    expect(error.message).toMatch(/does not exist/);
    expect(error.message).toMatch(/Create it.*empty file/);
  });

  it('fails when LLM_LEDGER_CONFIG names a missing file, and says the variable named it', () => {
    const error = configError(() => loadConfig({ cwd: dir, env: { LLM_LEDGER_CONFIG: 'gone.yaml' } }));
    expect(error.message).toContain(join(dir, 'gone.yaml'));
    expect(error.message).toContain('LLM_LEDGER_CONFIG');
  });

  it('fails clearly when the path is a directory', () => {
    expect(configError(() => loadConfig({ path: dir, cwd: dir, env: {} })).message).toMatch(/is a directory/);
  });

  it('names the file in every validation error', () => {
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'stor: {}\n');
    expect(configError(() => loadConfig({ cwd: dir, env: {} })).message).toContain(join(dir, 'llm-ledger.yaml'));
  });
});

describe('YAML', () => {
  it('reads a complete file', () => {
    const config = parse(`
store:
  type: jsonl
  path: /var/lib/ledger
  max_file_bytes: 4096
  append_timeout_ms: 2000
log:
  origin: audit.example.com/prod
  signing_key_file: keys/sign.key
  checkpoint_interval_ms: 0
  anchor:
    path: /mnt/worm/checkpoints
writer:
  max_batch: 10
  max_wait_ms: 0
digest:
  algorithm: sha256
  key_file: keys/digest.key
limits:
  max_metadata_bytes: 1024
  max_error_chars: 100
capture:
  prompts: encrypted
  responses: plaintext
  headers: hash
  allow_plaintext: true
  exclude_models: [internal-*, gpt-4o-mini]
  max_body_size: 65536
  headers_allow: [user-agent, X-Request-Id]
  pii:
    detectors: [email, card]
    custom:
      - name: patient_id
        pattern: 'PAT-\\d{6}'
encryption:
  kek_env: ACME_KEK
  kek_file: keys/kek
  previous_kek_files: [keys/kek-2025]
retention:
  preset: hipaa
  content_days: 0
  cleanup_interval_ms: 60000
  batch_size: 500
`);
    expect(config).toEqual({
      store: { type: 'jsonl', path: '/var/lib/ledger', maxFileBytes: 4096, schema: 'llm_ledger', appendTimeoutMs: 2000, readTimeoutMs: 30_000 },
      log: {
        origin: 'audit.example.com/prod',
        signingKeyFile: '/etc/ledger/keys/sign.key',
        checkpointIntervalMs: 0,
        anchor: { path: '/mnt/worm/checkpoints' },
      },
      writer: { maxBatch: 10, maxWaitMs: 0 },
      digest: { algorithm: 'sha256', keyFile: '/etc/ledger/keys/digest.key' },
      limits: { maxMetadataBytes: 1024, maxErrorChars: 100 },
      capture: {
        prompts: 'encrypted',
        responses: 'plaintext',
        headers: 'hash',
        allowPlaintext: true,
        excludeModels: ['internal-*', 'gpt-4o-mini'],
        maxBodySize: 65536,
        headersAllow: ['user-agent', 'X-Request-Id'],
        pii: { enabled: true, detectors: ['email', 'card'], custom: [{ name: 'patient_id', pattern: 'PAT-\\d{6}' }] },
      },
      encryption: { kekEnv: 'ACME_KEK', kekFile: '/etc/ledger/keys/kek', previousKekFiles: ['/etc/ledger/keys/kek-2025'] },
      retention: { preset: 'hipaa', contentDays: 0, envelopeDays: 2192, cleanupIntervalMs: 60000, batchSize: 500 },
      // The gateway section's defaults are specified in schema-gateway.test.ts.
      gateway: expect.any(Object),
    });
  });

  it('reports syntax errors with their line', () => {
    const [issue] = issuesOf('store:\n  type: sqlite\n  path: [unclosed\n');
    expect(issue?.message).toMatch(/^YAML: /);
    expect(issue?.line).toBeGreaterThanOrEqual(3);
  });

  it('does not quote the file in syntax errors, since the broken line may hold a secret', () => {
    const error = configError(() => parse('digest:\n  key_file: "sk-live-secret\n'));
    expect(error.message).toMatch(/line 3: YAML: Missing closing "quote/);
    expect(error.message).not.toContain('sk-live-secret');
  });

  it('rejects duplicate keys instead of letting the last one win', () => {
    expect(issuesOf('store:\n  type: sqlite\n  type: jsonl\n')[0]?.message).toMatch(/unique/);
  });

  it('rejects a file that is not a mapping', () => {
    expect(issuesOf('- store\n')[0]?.message).toMatch(/must be a mapping.*found a list/);
    expect(issuesOf('just text\n')[0]?.message).toMatch(/found a string/);
  });
});

describe('strict validation', () => {
  it('names an unknown key by its full path and suggests the nearest sibling', () => {
    const [issue] = issuesOf('store:\n  pth: ./x.db\n');
    expect(issue).toEqual({ path: 'store.pth', message: "Unknown key 'store.pth' — did you mean 'path'?", line: 2 });
  });

  it('suggests top-level sections and nested keys alike', () => {
    expect(issuesOf('stor: {}\n')[0]?.message).toBe("Unknown key 'stor' — did you mean 'store'?");
    expect(issuesOf('log:\n  anchor:\n    pat: x\n')[0]?.message).toBe("Unknown key 'log.anchor.pat' — did you mean 'path'?");
    expect(issuesOf('writer:\n  maxBatch: 5\n')[0]?.message).toBe("Unknown key 'writer.maxBatch' — did you mean 'max_batch'?");
  });

  it('lists the valid keys when nothing is close', () => {
    expect(issuesOf('writer:\n  retention: 5\n')[0]?.message).toBe("Unknown key 'writer.retention' (valid here: max_batch, max_wait_ms)");
  });

  it('does not accept the digest key itself in the file: it belongs in the environment', () => {
    expect(issuesOf(`digest:\n  key: ${HEX_KEY}\n`)[0]?.path).toBe('digest.key');
  });

  it('names the path, the allowed values and what was found for a wrong value', () => {
    expect(issuesOf('store:\n  type: postgress\n')[0]?.message).toBe(
      "store.type must be one of 'sqlite', 'jsonl', 'memory', 'postgres'; found \"postgress\" — did you mean 'postgres'?",
    );
    expect(issuesOf('store:\n  type: sqlit\n')[0]?.message).toMatch(/found "sqlit" — did you mean 'sqlite'\?$/);
    expect(issuesOf('writer:\n  max_batch: 0\n')[0]?.message).toBe('writer.max_batch must be at least 1; found 0');
    expect(issuesOf('writer:\n  max_wait_ms: 5000\n')[0]?.message).toBe('writer.max_wait_ms must be at most 1000; found 5000');
    expect(issuesOf('writer:\n  max_batch: many\n')[0]?.message).toBe('writer.max_batch must be a number; found "many"');
    expect(issuesOf('writer:\n  max_batch: 1.5\n')[0]?.message).toBe('writer.max_batch must be an integer; found 1.5');
    expect(issuesOf('log:\n  origin: ""\n')[0]?.message).toBe('log.origin must not be empty; found ""');
    expect(issuesOf('store: sqlite\n')[0]?.message).toBe('store must be a mapping; found "sqlite"');
    expect(issuesOf('log:\n  anchor:\n')[0]?.message).toBe('log.anchor must be a mapping; found null');
  });

  it('collects every problem in one error, in file order, with lines', () => {
    const issues = issuesOf('store:\n  type: nope\n  pth: x\nwriter:\n  max_batch: 0\nlimits:\n  max_error_chars: -1\nextra: 1\n');
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['store.type', 2],
      ['store.pth', 3],
      ['writer.max_batch', 5],
      ['limits.max_error_chars', 7],
      ['extra', 8],
    ]);
  });

  it('lists every problem in the error message', () => {
    const error = configError(() => parseConfig('stor: 1\nwriter:\n  max_batch: 0\n', { env: {}, source: 'test.yaml' }));
    expect(error.message).toBe(
      [
        'Invalid configuration (test.yaml):',
        "  - line 1: Unknown key 'stor' — did you mean 'store'?",
        '  - line 3: writer.max_batch must be at least 1; found 0',
      ].join('\n'),
    );
  });

  it('never repeats a value whose key name suggests a secret', () => {
    const secret = 'sk-live-0123456789abcdef';
    const error = configError(() => parse(`digest:\n  key_file: 12345678901234567890\n  key: ${secret}\nlog:\n  signing_key_file: [${secret}]\n`));
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('12345678901234567890');
    expect(error.message).toMatch(/digest\.key_file must be a string; found a number \(value not shown\)/);
  });
});

describe('capture, encryption and retention', () => {
  it('suggest the nearest key for typos inside the new sections, however deep', () => {
    expect(issuesOf('captur:\n  prompts: hash\n')[0]?.message).toBe("Unknown key 'captur' — did you mean 'capture'?");
    expect(issuesOf('capture:\n  promts: none\n')[0]?.message).toBe("Unknown key 'capture.promts' — did you mean 'prompts'?");
    expect(issuesOf('capture:\n  exclude_modles: [x]\n')[0]?.message).toBe("Unknown key 'capture.exclude_modles' — did you mean 'exclude_models'?");
    expect(issuesOf('capture:\n  pii:\n    detector: [email]\n')[0]?.message).toBe("Unknown key 'capture.pii.detector' — did you mean 'detectors'?");
    expect(issuesOf('capture:\n  pii:\n    custom:\n      - name: a\n        pattern: ZZZ\n        flag: i\n')[0]).toEqual({
      path: 'capture.pii.custom[0].flag',
      message: "Unknown key 'capture.pii.custom[0].flag' — did you mean 'flags'?",
      line: 6,
    });
    expect(issuesOf('encryption:\n  kek_fle: k\n')[0]?.message).toBe("Unknown key 'encryption.kek_fle' — did you mean 'kek_file'?");
    expect(issuesOf('retention:\n  content_day: 5\n')[0]?.message).toBe("Unknown key 'retention.content_day' — did you mean 'content_days'?");
    expect(issuesOf('retention:\n  batchSize: 5\n')[0]?.message).toBe("Unknown key 'retention.batchSize' — did you mean 'batch_size'?");
  });

  it('suggest the nearest value for a misspelt mode, detector or preset', () => {
    expect(issuesOf('capture:\n  responses: hsah\n')[0]?.message).toBe(
      "capture.responses must be one of 'none', 'hash', 'encrypted', 'plaintext'; found \"hsah\" — did you mean 'hash'?",
    );
    expect(issuesOf('capture:\n  pii:\n    detectors: [email, ipv44]\n')[0]).toMatchObject({ path: 'capture.pii.detectors[1]', line: 3 });
    expect(issuesOf('capture:\n  pii:\n    detectors: [email, ipv44]\n')[0]?.message).toMatch(/found "ipv44" — did you mean 'ipv4'\?$/);
    expect(issuesOf('retention:\n  preset: HIPPA\n')[0]?.message).toBe(
      "retention.preset must be one of 'standard', 'hipaa', 'gdpr'; found \"HIPPA\" — did you mean 'hipaa'?",
    );
  });

  it('refuses plaintext without the opt-in, naming the key to set', () => {
    expect(issuesOf('capture:\n  prompts: plaintext\n')).toEqual([
      {
        path: 'capture.prompts',
        line: 2,
        message:
          "capture.prompts may be 'plaintext' only with capture.allow_plaintext: true (anyone who can read the store could read the text); set that, or use 'encrypted'; found \"plaintext\"",
      },
    ]);
  });

  it('refuses credential headers on the allow-list, each at its own place', () => {
    const issues = issuesOf('capture:\n  headers_allow:\n    - user-agent\n    - Authorization\n    - x-api-key\n');
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['capture.headers_allow[1]', 4],
      ['capture.headers_allow[2]', 5],
    ]);
    expect(issues[0]?.message).toMatch(
      /^capture\.headers_allow\[1\] must not name a credential header: authorization, .* are never kept; remove it; found "Authorization"$/,
    );
  });

  it('refuses every unusable custom pattern at load, pointing at the key at fault', () => {
    const issues = issuesOf(
      'capture:\n  pii:\n    custom:\n      - name: a\n        pattern: "(a+)+"\n      - name: email\n        pattern: x\n      - name: ok\n        pattern: "y["\n      - name: f\n        pattern: z\n        flags: g\n',
    );
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['capture.pii.custom[0].pattern', 5],
      ['capture.pii.custom[1].name', 6],
      ['capture.pii.custom[2].pattern', 9],
      ['capture.pii.custom[3].flags', 12],
    ]);
    expect(issues[0]?.message).toMatch(/^capture\.pii\.custom\[0\]\.pattern is refused: Custom pattern "a": a repeated group contains a repetition/);
    expect(issues[1]?.message).toMatch(/name is already used by a built-in detector/);
  });

  it('rejects an unknown preset with the valid names, and 0-day envelopes with the reason', () => {
    expect(issuesOf('retention:\n  preset: sox\n')[0]?.message).toBe("retention.preset must be one of 'standard', 'hipaa', 'gdpr'; found \"sox\"");
    expect(issuesOf('retention:\n  envelope_days: 0\n')[0]?.message).toBe(
      "retention.envelope_days must be at least 1 or 'forever': 0 would delete the audit trail at every cleanup; found 0",
    );
    expect(issuesOf('retention:\n  content_days: always\n')[0]?.message).toBe(
      'retention.content_days must be a whole number of days (0 to 36500) or \'forever\'; found "always"',
    );
  });

  it('refuses content kept longer than its envelope, at the line the user wrote', () => {
    expect(issuesOf('retention:\n  content_days: 400\n')[0]).toEqual({
      path: 'retention.content_days',
      line: 2,
      message: 'retention.content_days must not exceed retention.envelope_days (365 from preset standard): content is removed with its envelope; found 400',
    });
    expect(issuesOf('retention:\n  preset: gdpr\n  envelope_days: 10\n')[0]).toEqual({
      path: 'retention.envelope_days',
      line: 3,
      message:
        'retention.envelope_days must not be shorter than retention.content_days (30 from preset gdpr): content is removed with its envelope; lower content_days too; found 10',
    });
  });
});

describe('interpolation', () => {
  it('substitutes ${VAR} and ${VAR:-default} in values', () => {
    const config = parse('log:\n  origin: ${ORIGIN}\nstore:\n  path: ${DATA:-/var/lib}/ledger.db\n', { ORIGIN: 'audit.example.com/x' });
    expect(config.log.origin).toBe('audit.example.com/x');
    expect(config.store.path).toBe('/var/lib/ledger.db');
  });

  it('gives an unquoted reference the type of its value, so numbers can come from the environment', () => {
    expect(parse('writer:\n  max_batch: ${BATCH:-64}\n').writer.maxBatch).toBe(64);
    expect(parse('writer:\n  max_batch: ${BATCH}\n', { BATCH: '128' }).writer.maxBatch).toBe(128);
  });

  it('keeps $${ as a literal ${', () => {
    expect(parse('log:\n  origin: a$${b}\n').log.origin).toBe('a${b}');
  });

  it('fails on an unset variable, naming the variable and the path, alongside other problems', () => {
    const issues = issuesOf('log:\n  origin: ${LEDGER_ORIGIN}\nwriter:\n  max_batch: 0\n');
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatchObject({ path: 'log.origin', line: 2 });
    expect(issues[0]?.message).toMatch(/^log\.origin uses environment variable LEDGER_ORIGIN, which is not set/);
    expect(issues[1]?.path).toBe('writer.max_batch');
  });

  it('resolves a relative path that came from a variable against the file directory, like any file value', () => {
    expect(parse('store:\n  path: ${DIR}/l.db\n', { DIR: 'data' }).store.path).toBe('/etc/ledger/data/l.db');
  });
});

describe('environment overrides', () => {
  it('override the file', () => {
    const config = parse('store:\n  type: sqlite\n  path: file.db\nlog:\n  origin: from-file\n', {
      LLM_LEDGER_STORE: 'jsonl',
      LLM_LEDGER_STORE_PATH: '/data/jsonl',
      LLM_LEDGER_ORIGIN: 'from-env',
      LLM_LEDGER_SIGNING_KEY_FILE: '/keys/sign.key',
      LLM_LEDGER_ANCHOR: '/mnt/anchor',
    });
    expect(config.store).toMatchObject({ type: 'jsonl', path: '/data/jsonl' });
    expect(config.log).toMatchObject({ origin: 'from-env', signingKeyFile: '/keys/sign.key', anchor: { path: '/mnt/anchor' } });
  });

  it('resolve relative paths against cwd, where the variable was set, not the file directory', () => {
    const config = parse('', { LLM_LEDGER_STORE_PATH: 'here.db', LLM_LEDGER_ANCHOR: 'anchor' });
    expect(config.store.path).toBe('/work/here.db');
    expect(config.log.anchor?.path).toBe('/work/anchor');
  });

  it('apply when there is no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-config-'));
    expect(loadConfig({ cwd: dir, env: { LLM_LEDGER_STORE: 'memory' } }).store.type).toBe('memory');
  });

  it('treat an empty variable as unset', () => {
    expect(parse('', { LLM_LEDGER_STORE: '', LLM_LEDGER_ORIGIN: '' })).toEqual(parse(''));
  });

  it('are validated like file values, and the error names the variable', () => {
    const [issue] = issuesOf('', { LLM_LEDGER_STORE: 'oracle' });
    expect(issue?.path).toBe('store.type');
    expect(issue?.message).toMatch(/must be one of .*found "oracle" \(set by LLM_LEDGER_STORE\)$/);
    expect(issue?.line).toBeUndefined();
  });

  it('take LLM_LEDGER_DIGEST_KEY as hex or base64 of at least 32 bytes', () => {
    expect(parse('', { LLM_LEDGER_DIGEST_KEY: HEX_KEY }).digest.key).toBe(HEX_KEY);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(parse('', { LLM_LEDGER_DIGEST_KEY: ` ${base64}\n` }).digest.key).toBe(base64);
  });

  it('reject a short or malformed digest key without echoing it', () => {
    for (const key of ['abcd1234', 'not a key at all, just words!', 'ab'.repeat(31)]) {
      const error = configError(() => parse('', { LLM_LEDGER_DIGEST_KEY: key }));
      expect(error.issues[0]?.path).toBe('digest.key');
      expect(error.message).toContain('LLM_LEDGER_DIGEST_KEY');
      expect(error.message).not.toContain(key);
    }
  });
});

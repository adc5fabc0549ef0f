import { describe, expect, it } from 'vitest';
import { Digester } from '../crypto/digest.js';
import { configSchema } from '../config/schema.js';
import {
  CAPTURE_MODES,
  CapturePolicyError,
  compileCapturePolicy,
  parseCaptureRequest,
  type CaptureCall,
  type CaptureMode,
  type CapturePolicyConfig,
  type CaptureResult,
} from './policy.js';

const digester = new Digester('hmac-sha256', Buffer.alloc(32, 7));

/** The capture section exactly as the loader resolves it from YAML-shaped input. */
function captureConfig(yaml: Record<string, unknown> = {}): CapturePolicyConfig {
  return configSchema('/base').parse({ capture: { allow_plaintext: true, ...yaml } }).capture;
}

const policyFor = (yaml: Record<string, unknown> = {}) => compileCapturePolicy(captureConfig(yaml), { digester });

// Planted texts: unique, and free of anything a PII detector would touch.
const SYSTEM = 'planted-system-3c1d';
const INPUT = 'planted-input-8e2b';
const OUTPUT = 'planted-output-51fa';
// An upstream's error message, which may quote the prompt: response text, under the responses mode.
const ERROR = 'planted-error-message-d47c';
const HEADER = 'planted-header-value-90ae';
const API_KEY = 'sk-proj-PLANTEDsecretKEY0123456789abcdefABCDEF';

const CALL: CaptureCall = {
  model: 'gpt-4o',
  system: SYSTEM,
  input: INPUT,
  output: OUTPUT,
  error: ERROR,
  headers: { 'User-Agent': HEADER, Authorization: `Bearer ${API_KEY}`, 'x-api-key': API_KEY, cookie: `session=${API_KEY}` },
};

const json = (result: CaptureResult) => JSON.stringify(result);

describe('the default policy', () => {
  const result = policyFor().apply(CALL);

  it('keeps keyed digests of the original texts and no content', () => {
    expect(result.modes).toEqual({ prompts: 'hash', responses: 'hash', headers: 'none' });
    expect(result.digests).toEqual({
      alg: 'hmac-sha256',
      system: digester.digest(SYSTEM),
      input: digester.digest(INPUT),
      output: digester.digest(OUTPUT),
      error: digester.digest(ERROR),
    });
    expect(result.content).toEqual({});
    expect(result.headersDigest).toBeUndefined();
    expect(result.excluded).toBe(false);
  });

  it('lets no planted text, header or key through anywhere in the result', () => {
    for (const planted of [SYSTEM, INPUT, OUTPUT, ERROR, HEADER, API_KEY, 'PLANTED']) expect(json(result)).not.toContain(planted);
  });
});

describe('every mode for every class', () => {
  const planted = { prompts: [SYSTEM, INPUT], responses: [OUTPUT, ERROR], headers: [HEADER] } as const;

  for (const field of ['prompts', 'responses', 'headers'] as const) {
    for (const mode of CAPTURE_MODES) {
      it(`${field}: ${mode}`, () => {
        const result = policyFor({ prompts: 'none', responses: 'none', headers: 'none', headers_allow: ['user-agent'], [field]: mode }).apply(CALL);
        expect(result.modes[field]).toBe(mode);
        const out = json(result);
        for (const text of planted[field]) {
          if (mode === 'encrypted' || mode === 'plaintext') expect(out).toContain(text);
          else expect(out).not.toContain(text);
        }
        // Other classes are none: nothing of theirs, and never a credential.
        for (const [other, texts] of Object.entries(planted)) if (other !== field) for (const text of texts) expect(out).not.toContain(text);
        expect(out).not.toContain(API_KEY);

        const digested = mode !== 'none';
        if (field === 'prompts') {
          expect(result.digests?.system).toBe(digested ? digester.digest(SYSTEM) : undefined);
          expect(result.digests?.input).toBe(digested ? digester.digest(INPUT) : undefined);
          expect(result.content.system?.mode).toBe(digested && mode !== 'hash' ? mode : undefined);
          expect(result.content.input?.text).toBe(digested && mode !== 'hash' ? INPUT : undefined);
        } else if (field === 'responses') {
          expect(result.digests?.output).toBe(digested ? digester.digest(OUTPUT) : undefined);
          expect(result.content.output?.text).toBe(digested && mode !== 'hash' ? OUTPUT : undefined);
          expect(result.digests?.error).toBe(digested ? digester.digest(ERROR) : undefined);
          expect(result.content.error?.text).toBe(digested && mode !== 'hash' ? ERROR : undefined);
        } else {
          expect(result.digests).toBeUndefined();
          expect(result.headersDigest).toBe(digested ? digester.digest(`user-agent: ${HEADER}\n`) : undefined);
          expect(result.content.headers?.values).toEqual(digested && mode !== 'hash' ? { 'user-agent': HEADER } : undefined);
        }
      });
    }
  }

  it('stores content with its mode, original size and flags', () => {
    const result = policyFor({ prompts: 'encrypted', responses: 'plaintext' }).apply(CALL);
    expect(result.content.input).toEqual({ mode: 'encrypted', text: INPUT, bytes: INPUT.length, truncated: false, redactions: 0 });
    expect(result.content.output).toEqual({ mode: 'plaintext', text: OUTPUT, bytes: OUTPUT.length, truncated: false, redactions: 0 });
    expect(result.content.error).toEqual({ mode: 'plaintext', text: ERROR, bytes: ERROR.length, truncated: false, redactions: 0 });
  });

  it('digests an empty text but not an absent one', () => {
    const result = policyFor().apply({ input: '' });
    expect(result.digests).toEqual({ alg: 'hmac-sha256', input: digester.digest('') });
    expect(policyFor().apply({}).digests).toBeUndefined();
  });
});

describe('compiling the policy', () => {
  it('refuses plaintext without allow_plaintext, even from a configuration built in code', () => {
    const config = { ...captureConfig(), responses: 'plaintext' as const, allowPlaintext: false };
    expect(() => compileCapturePolicy(config, { digester })).toThrow(CapturePolicyError);
    expect(() => compileCapturePolicy(config, { digester })).toThrow(/capture\.responses is plaintext but capture\.allow_plaintext is not true/);
  });

  it('warns once, at compile time, about plaintext and about stored content without redaction', () => {
    expect(policyFor().warnings).toEqual([]);
    expect(policyFor({ prompts: 'plaintext' }).warnings).toEqual([
      'capture.prompts is plaintext: its text is stored unencrypted, readable by anyone who can read the store',
    ]);
    expect(policyFor({ prompts: 'encrypted', pii: { enabled: false } }).warnings).toEqual([
      'capture stores content with PII redaction turned off (capture.pii.enabled: false)',
    ]);
    expect(policyFor({ headers: 'hash' }).warnings).toEqual(['capture.headers is hash but capture.headers_allow is empty, so no header is kept']);
  });

  it('refuses a max_body_size that is not a positive whole number', () => {
    expect(() => compileCapturePolicy({ ...captureConfig(), maxBodySize: 0 }, { digester })).toThrow(/max_body_size must be a whole number of bytes/);
  });

  it('uses the digester it is given, so sha256 digests are plain SHA-256', () => {
    const result = compileCapturePolicy(captureConfig(), { digester: new Digester('sha256') }).apply({ input: 'abc' });
    expect(result.digests).toEqual({ alg: 'sha256', input: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' });
  });
});

describe('lowering capture per request', () => {
  const encrypted = policyFor({ prompts: 'encrypted', responses: 'encrypted', headers: 'encrypted', headers_allow: ['user-agent'] });

  it('reads the x-llm-ledger-capture header, in any case, and lowers every class', () => {
    const result = encrypted.apply({ ...CALL, headers: { ...CALL.headers, 'X-LLM-Ledger-Capture': 'hash' } });
    expect(result.modes).toEqual({ prompts: 'hash', responses: 'hash', headers: 'hash' });
    expect(result.content).toEqual({});
    expect(result.digests?.input).toBe(digester.digest(INPUT));
    for (const planted of [SYSTEM, INPUT, OUTPUT, ERROR, HEADER]) expect(json(result)).not.toContain(planted);
    expect(result.notes).toEqual([]);
  });

  it('lowers one class at a time', () => {
    const result = encrypted.apply({ ...CALL, lower: 'prompts=none, responses=hash' });
    expect(result.modes).toEqual({ prompts: 'none', responses: 'hash', headers: 'encrypted' });
    expect(result.digests).toEqual({ alg: 'hmac-sha256', output: digester.digest(OUTPUT), error: digester.digest(ERROR) });
    expect(result.content.headers?.values).toEqual({ 'user-agent': HEADER });
  });

  it('takes an explicit lowering over the header', () => {
    const result = encrypted.apply({ ...CALL, headers: { 'x-llm-ledger-capture': 'encrypted' }, lower: { all: 'none' } });
    expect(result.modes).toEqual({ prompts: 'none', responses: 'none', headers: 'none' });
    expect(json(result)).not.toContain(INPUT);
  });

  it('ignores a request to raise capture and says so', () => {
    const result = policyFor().apply({ ...CALL, lower: 'plaintext' });
    expect(result.modes).toEqual({ prompts: 'hash', responses: 'hash', headers: 'none' });
    expect(result.content).toEqual({});
    expect(result.notes).toEqual([
      'the request asked for plaintext prompts, above the configured hash; a request may only lower capture, so it was ignored',
      'the request asked for plaintext responses, above the configured hash; a request may only lower capture, so it was ignored',
      'the request asked for plaintext headers, above the configured none; a request may only lower capture, so it was ignored',
    ]);
  });

  it('applies the parts it understands and reports the rest without quoting them', () => {
    const result = encrypted.apply({ ...CALL, lower: `responses=none, prompts=${INPUT}` });
    expect(result.modes.responses).toBe('none');
    expect(result.modes.prompts).toBe('encrypted');
    expect(result.notes).toEqual([
      'x-llm-ledger-capture part 2 is not understood (expected none, hash, encrypted or plaintext, or class=mode with class prompts, responses, headers) and was ignored',
    ]);
    expect(result.notes.join()).not.toContain(INPUT);
  });
});

describe('parseCaptureRequest', () => {
  it.each<[string, Partial<Record<string, CaptureMode>>]>([
    ['none', { all: 'none' }],
    [' HASH ', { all: 'hash' }],
    ['prompts=none', { prompts: 'none' }],
    ['prompts = hash , responses=none,', { prompts: 'hash', responses: 'none' }],
    ['prompts=encrypted,prompts=none,prompts=hash', { prompts: 'none' }],
    ['hash,headers=none', { all: 'hash', headers: 'none' }],
  ])('reads %j', (value, lowering) => {
    expect(parseCaptureRequest(value)).toEqual({ lowering, problems: [] });
  });

  it.each(['', 'hsah', 'body=none', 'prompts=', '=none', 'prompts=none=hash'])('reports %j as not understood', (value) => {
    const parsed = parseCaptureRequest(value);
    expect(parsed.lowering).toEqual({});
    expect(parsed.problems).toHaveLength(1);
  });
});

describe('exclude_models', () => {
  const policy = policyFor({
    prompts: 'encrypted',
    headers: 'encrypted',
    headers_allow: ['user-agent'],
    exclude_models: ['gpt-4.1', 'claude-*', '*-preview', 'openai/*'],
  });

  it.each(['gpt-4.1', 'GPT-4.1', 'claude-3-opus', 'claude-', 'o1-preview', 'openai/gpt-4o', 'OpenAI/x/y'])(
    'excludes %s, keeping nothing but the envelope facts',
    (model) => {
      const result = policy.apply({ ...CALL, model });
      expect(result).toEqual({
        excluded: true,
        modes: { prompts: 'none', responses: 'none', headers: 'none' },
        content: {},
        pii: { findings: {}, total: 0 },
        notes: [],
      });
    },
  );

  it.each(['gpt-4x1', 'gpt-4.10', 'my-claude-3', 'o1-preview-2', 'azure/openai/gpt', undefined])('captures %s as configured', (model) => {
    const result = policy.apply({ ...CALL, model });
    expect(result.excluded).toBe(false);
    expect(result.content.input?.text).toBe(INPUT);
  });

  it('lets * exclude every call, even one without a model', () => {
    const all = policyFor({ exclude_models: ['*'] });
    expect(all.apply({ ...CALL, model: undefined }).excluded).toBe(true);
    expect(all.apply(CALL).excluded).toBe(true);
  });
});

describe('max_body_size', () => {
  it('cuts stored text on a character boundary, recording the original size', () => {
    const text = `ab€😀${'x'.repeat(10)}`;
    const result = policyFor({ prompts: 'encrypted', max_body_size: 8 }).apply({ input: text });
    expect(result.content.input).toMatchObject({ text: 'ab€', bytes: Buffer.byteLength(text), truncated: true });
    // The digest is of the whole original, so equal long texts still correlate and unequal ones do not collide.
    expect(result.digests?.input).toBe(digester.digest(text));
  });

  it('redacts before cutting, so a secret at the cut is never left half visible', () => {
    const text = 'pay with 4111 1111 1111 1111 today';
    const result = policyFor({ prompts: 'encrypted', max_body_size: 20 }).apply({ input: text });
    expect(result.content.input).toEqual({ mode: 'encrypted', text: 'pay with [REDACTED:c', bytes: text.length, truncated: true, redactions: 1 });
    expect(json(result)).not.toMatch(/4111|1111/);
  });

  it('still finds secrets in a body far larger than the limit, near the cut', () => {
    const text = `${'word '.repeat(300_000)}mail alice@example.com now`;
    const result = policyFor({ prompts: 'encrypted', max_body_size: text.length - 10 }).apply({ input: text });
    expect(result.content.input?.text).not.toContain('alice@example.com');
    expect(result.pii.findings).toEqual({ email: 1 });
  });
});

describe('headers', () => {
  it('keeps only allow-listed headers, matching names in any case, under lower-case names', () => {
    const policy = policyFor({ headers: 'plaintext', headers_allow: ['User-Agent', 'X-Request-Id'] });
    const result = policy.apply({ headers: { 'USER-AGENT': 'ua/1', 'x-request-id': ['r1', 'r2'], 'x-other': 'no', 'content-type': 'application/json' } });
    expect(result.content.headers).toEqual({ mode: 'plaintext', values: { 'user-agent': 'ua/1', 'x-request-id': 'r1, r2' }, truncated: false, redactions: 0 });
  });

  it('never keeps authorization, API-key or cookie headers, even when a configuration built in code allows them', () => {
    const config = { ...captureConfig({ headers: 'plaintext' }), headersAllow: ['authorization', 'X-Api-Key', 'cookie', 'x-goog-api-key', 'user-agent'] };
    const policy = compileCapturePolicy(config, { digester });
    expect(policy.warnings.filter((w) => w.includes('credential header'))).toEqual(
      ['authorization', 'X-Api-Key', 'cookie', 'x-goog-api-key'].map((name) => `capture.headers_allow names the credential header ${name}; it is never kept`),
    );
    const result = policy.apply({ ...CALL, headers: { ...CALL.headers, 'x-goog-api-key': API_KEY } });
    expect(result.content.headers?.values).toEqual({ 'user-agent': HEADER });
    expect(json(result)).not.toContain(API_KEY);
  });

  it('digests the kept headers independently of their order and case', () => {
    const policy = policyFor({ headers: 'hash', headers_allow: ['a', 'b'] });
    const one = policy.apply({ headers: { A: '1', b: '2' } }).headersDigest;
    expect(one).toBe(digester.digest('a: 1\nb: 2\n'));
    expect(policy.apply({ headers: { B: '2', a: '1' } }).headersDigest).toBe(one);
    expect(policy.apply({ headers: { c: '3' } }).headersDigest).toBeUndefined();
  });

  it('redacts PII in kept header values', () => {
    const result = policyFor({ headers: 'encrypted', headers_allow: ['x-user'] }).apply({ headers: { 'x-user': 'bob@example.com' } });
    expect(result.content.headers).toMatchObject({ values: { 'x-user': '[REDACTED:email]' }, redactions: 1 });
  });
});

describe('PII redaction', () => {
  const text = `mail alice@example.com or bob@example.org, key ${API_KEY}, card 4111 1111 1111 1111`;

  it('redacts stored text and counts what fired, per field and in total', () => {
    const result = policyFor({ prompts: 'encrypted', responses: 'plaintext' }).apply({ input: text, output: 'call +1 415 555 2671', system: 'none here' });
    expect(result.content.input?.text).toBe('mail [REDACTED:email] or [REDACTED:email], key [REDACTED:openai_key], card [REDACTED:card]');
    expect(result.content.input?.redactions).toBe(4);
    expect(result.content.output?.redactions).toBe(1);
    expect(result.content.system?.redactions).toBe(0);
    expect(result.pii).toEqual({ findings: { email: 2, openai_key: 1, card: 1, phone: 1 }, total: 5 });
    expect(json(result)).not.toContain(API_KEY);
    expect(json(result)).not.toContain('alice@example.com');
  });

  it('redacts a stored error message like any answer, since it may quote the prompt', () => {
    const result = policyFor({ responses: 'encrypted' }).apply({ error: `Invalid 'messages[0].content': ${text}` });
    expect(result.content.error).toMatchObject({ mode: 'encrypted', redactions: 4 });
    expect(result.content.error?.text).not.toContain('alice@example.com');
    expect(result.digests?.error).toBe(digester.digest(`Invalid 'messages[0].content': ${text}`));
  });

  it('digests the original text, so an auditor holding it can confirm it was sent', () => {
    expect(policyFor({ prompts: 'encrypted' }).apply({ input: text }).digests?.input).toBe(digester.digest(text));
  });

  it('runs only the configured detectors and custom patterns', () => {
    const result = policyFor({ prompts: 'encrypted', pii: { detectors: ['card'], custom: [{ name: 'patient', pattern: 'PAT-\\d{6}' }] } }).apply({
      input: `${text} patient PAT-123456`,
    });
    expect(result.pii).toEqual({ findings: { card: 1, patient: 1 }, total: 2 });
    expect(result.content.input?.text).toContain('alice@example.com');
  });

  it('is off when disabled, and never runs on text that is only digested', () => {
    expect(policyFor({ prompts: 'encrypted', pii: { enabled: false } }).apply({ input: text }).content.input?.text).toBe(text);
    expect(policyFor({ prompts: 'hash', pii: { enabled: true } }).apply({ input: text }).pii).toEqual({ findings: {}, total: 0 });
  });
});

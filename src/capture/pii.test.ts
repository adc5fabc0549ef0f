import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS, createRedactor, MAX_CUSTOM_PATTERN_LENGTH, RedactorConfigError, type DetectorName } from './pii.js';

const all = createRedactor();

/** Runs one detector alone, so each case says exactly which rule it exercises. */
const only = (name: DetectorName) => createRedactor({ detectors: [name] });

function expectRedacted(name: DetectorName, positives: readonly string[]): void {
  const redactor = only(name);
  for (const value of positives) {
    const result = redactor.redact(`before ${value} after`);
    expect(result.text, value).toBe(`before [REDACTED:${name}] after`);
    expect(result.findings, value).toEqual({ [name]: 1 });
    // Every other detector running alongside must not change the verdict or leave a piece behind.
    expect(all.redact(`before ${value} after`).text, value).toMatch(/^before \[REDACTED:[a-z_0-9]+\] after$/);
  }
}

function expectKept(name: DetectorName, negatives: readonly string[]): void {
  const redactor = only(name);
  for (const value of negatives) {
    const result = redactor.redact(`before ${value} after`);
    expect(result.text, value).toBe(`before ${value} after`);
    expect(result.total, value).toBe(0);
  }
}

/** Clean text that carries every near-miss shape; no built-in detector may touch it. */
const NEAR_MISSES = [
  'released 2024-01-15 at 10:30:00.123Z, build 10.0.19041.1, version v1.2.3.4 and 1.2.3',
  'order 123456789012, tokens 4155552671 in, 1,234,567 out, cost $1,234.56, ts 1700000000000',
  'request 123e4567-e89b-12d3-a456-426614174000',
  'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'std::vector<int> and Bad::Cafe, time 12:34:56, mac 00:1a:2b:3c:4d:5e, ratio 3:2',
  'Bearer authentication uses a bearer token, see RFC 6750. sk-learn is short.',
  '+1 vote, 2+2=4, see page 12-34, 12/05/2024, call me at noon',
].join('\n');

describe('built-in detectors', () => {
  it('lists every built-in by name, in precedence order', () => {
    expect(BUILTIN_DETECTORS).toEqual([
      'private_key',
      'jwt',
      'bearer_token',
      'anthropic_key',
      'openai_key',
      'github_token',
      'slack_token',
      'google_api_key',
      'aws_access_key',
      'card',
      'iban',
      'ssn',
      'email',
      'ipv6',
      'ipv4',
      'phone',
    ]);
  });

  it('leave clean text with dates, versions, ids, UUIDs, hashes and times untouched', () => {
    expect(all.redact(NEAR_MISSES)).toEqual({ text: NEAR_MISSES, findings: {}, total: 0 });
  });

  describe('email', () => {
    it('redacts addresses with dots, plus tags and subdomains', () => {
      expectRedacted('email', ['john.doe@example.com', 'a+tag@mail.example.co.uk', 'first_last%x@sub-domain.io', 'UPPER@EXAMPLE.ORG']);
    });
    it('keeps handles, bare @ signs and addresses without a top-level domain', () => {
      expectKept('email', ['@mention', 'user@localhost', 'a @ b.com', 'john@example.c0m', 'name@-']);
    });
    it('redacts the address inside mailto: and angle brackets, stopping at a sentence dot', () => {
      expect(only('email').redact('mailto:x@y.com <a@b.io>. Done.').text).toBe('mailto:[REDACTED:email] <[REDACTED:email]>. Done.');
    });
  });

  describe('phone', () => {
    it('redacts international numbers with a country code', () => {
      expectRedacted('phone', ['+44 20 7946 0958', '+1 (415) 555-2671', '+33 1 23 45 67 89', '+4915112345678', '+1-415-555-2671', '+81.3.1234.5678']);
    });
    it('redacts common national formats that carry separators', () => {
      expectRedacted('phone', [
        '(415) 555-2671',
        '415-555-2671',
        '415.555.2671',
        '1-800-555-0199',
        '020 7946 0958',
        '07700 900123',
        '030 12345678',
        '01 23 45 67 89',
      ]);
    });
    it('keeps bare digit runs, dates, times, versions, mixed separators and arithmetic', () => {
      expectKept('phone', [
        '4155552671',
        '1700000000000',
        '2024-01-15',
        '15.01.2024',
        '10:30:00',
        '1.2.3',
        '415-555.2671',
        '+1234',
        '2+2',
        '+1234567890123456',
        'ORD-415-555-2671',
        '01 23 45 67-89',
      ]);
    });
  });

  describe('card', () => {
    it('redacts Luhn-valid numbers printed whole, in fours, or in the Amex layout', () => {
      expectRedacted('card', [
        '4111111111111111',
        '4111 1111 1111 1111',
        '4111-1111-1111-1111',
        '5500 0000 0000 0004',
        '378282246310005',
        '3782 822463 10005',
        '6011000990139424',
        '4222222222222',
      ]);
    });
    it('keeps numbers that fail Luhn, break the layout or mix separators', () => {
      expectKept('card', ['4111 1111 1111 1112', '4111111111111112', '41111 11111 11111 1', '4111 1111-1111 1111', '411111111111', '41111111111111111111']);
    });
    it('keeps Luhn-valid numbers that start outside 2-6, such as millisecond timestamps', () => {
      // 1700000000006 passes Luhn; no card network issues numbers starting with 1.
      expectKept('card', ['1700000000006', '9111111111111113']);
    });
    it('finds a card inside a run of numbers without leaving any of its digits', () => {
      const result = only('card').redact('ref 42 4111 1111 1111 1111 9');
      expect(result.text).toBe('ref 42 [REDACTED:card] 9');
      const twoCards = only('card').redact('4111 1111 1111 1111 5500 0000 0000 0004');
      expect(twoCards.text).not.toMatch(/\d/);
    });
  });

  describe('ssn', () => {
    it('redacts area-group-serial with dashes or spaces', () => {
      expectRedacted('ssn', ['123-45-6789', '078 05 1120', '665-01-0001']);
    });
    it('keeps area 000, 666 and 9xx, group 00, serial 0000, mixed separators and bare digits', () => {
      expectKept('ssn', ['000-12-3456', '666-12-3456', '900-12-3456', '987-65-4321', '123-00-4567', '123-45-0000', '123-45 6789', '123456789', '2024-01-15']);
    });
  });

  describe('iban', () => {
    it('redacts checksum-valid IBANs, grouped or compact, upper or lower case', () => {
      expectRedacted('iban', [
        'GB82 WEST 1234 5698 7654 32',
        'DE89 3704 0044 0532 0130 00',
        'FR14 2004 1010 0505 0001 3M02 606',
        'NL91ABNA0417164300',
        'BE68 5390 0754 7034',
        'gb82west12345698765432',
      ]);
    });
    it('keeps a bad checksum, a wrong length for the country and an unknown country', () => {
      expectKept('iban', [
        'GB82 WEST 1234 5698 7654 33',
        'GB82 WEST 1234 5698 7654',
        'DE89 3704 0044 0532 0130 0',
        'QQ82 WEST 1234 5698 7654 32',
        'DE893704004405320130001',
      ]);
    });
    it('ends a grouped IBAN at its registered length, not at the next four-letter word', () => {
      expect(only('iban').redact('BE68 5390 0754 7034 from BE').text).toBe('[REDACTED:iban] from BE');
    });
  });

  describe('ipv4', () => {
    it('redacts dotted quads with every octet in range', () => {
      expectRedacted('ipv4', ['192.168.1.1', '10.0.0.255', '8.8.8.8', '0.0.0.0']);
    });
    it('keeps out-of-range octets, version numbers and longer dotted runs', () => {
      expectKept('ipv4', ['999.1.1.1', '256.0.0.1', '1.2.3', 'v1.2.3.4', '1.2.3.4.5', '10.0.19041.1']);
    });
    it('keeps the port and the sentence dot outside the redaction', () => {
      expect(only('ipv4').redact('at 10.1.2.3:8080. Then').text).toBe('at [REDACTED:ipv4]:8080. Then');
    });
  });

  describe('ipv6', () => {
    it('redacts full, compressed and IPv4-mapped addresses', () => {
      expectRedacted('ipv6', [
        '2001:0db8:0000:0000:0000:ff00:0042:8329',
        '2001:db8::ff00:42:8329',
        'fe80::1',
        '::1',
        '::ffff:192.168.1.1',
        '2001:db8:85a3::8a2e:370:7334',
      ]);
    });
    it('keeps times, MAC addresses, C++ names and malformed groups', () => {
      expectKept('ipv6', ['10:30:00', '00:1a:2b:3c:4d:5e', 'std::vector', 'Bad::Cafe', '2001:db8::1::2', '12345::1', '1:2:3:4:5:6:7:8:9']);
    });
    it('keeps brackets, port and trailing punctuation outside the redaction', () => {
      expect(only('ipv6').redact('[2001:db8::1]:443 and fe80::1: down').text).toBe('[[REDACTED:ipv6]]:443 and [REDACTED:ipv6]: down');
    });
  });

  describe('secrets', () => {
    it('redacts OpenAI keys, legacy and project-scoped', () => {
      expectRedacted('openai_key', [
        'sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL',
        'sk-proj-Ab3_dEf-GhIjKlMnOpQrStUvWxYz0123456789',
        'sk-svcacct-abcdefghijklmnopqrstuvwx12',
      ]);
    });
    it('redacts Anthropic keys as anthropic_key, not openai_key', () => {
      expectRedacted('anthropic_key', ['sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789_-AB']);
      expect(all.redact('sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789').findings).toEqual({ anthropic_key: 1 });
    });
    it('redacts AWS access key ids', () => {
      expectRedacted('aws_access_key', ['AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A']);
    });
    it('redacts GitHub classic and fine-grained tokens', () => {
      expectRedacted('github_token', [
        'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        'gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab',
        'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
      ]);
    });
    it('redacts Slack tokens', () => {
      expectRedacted('slack_token', ['xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'xoxp-1234567890-abcdef']);
    });
    it('redacts Google API keys', () => {
      expectRedacted('google_api_key', ['AIzaSyA1234567890abcdefghijklmnopqrstuv']);
    });
    it('redacts JWTs, signed or not', () => {
      expectRedacted('jwt', [
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
        'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      ]);
    });
    it('redacts a whole PEM private key block, and one cut off before its END line', () => {
      const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/=\n-----END RSA PRIVATE KEY-----';
      expectRedacted('private_key', [
        pem,
        pem.replaceAll('RSA ', ''),
        pem.replaceAll('RSA', 'ENCRYPTED'),
        pem.replaceAll('RSA PRIVATE KEY', 'OPENSSH PRIVATE KEY'),
      ]);
      expect(only('private_key').redact('key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC').text).toBe('key: [REDACTED:private_key]');
    });
    it('redacts bearer credentials, and keeps the word in prose', () => {
      expectRedacted('bearer_token', ['Bearer abc.def-123456', 'bearer dGhpcyBpcyBhIHRva2VuIGZvciB5b3U=', 'BEARER abcdefghijklmnopqrstuvwxyz']);
      expectKept('bearer_token', ['Bearer authentication', 'Bearer tokens', 'Bearer abc123']);
    });
    it('keeps shapes that only resemble keys', () => {
      expectKept('openai_key', ['sk-short123', 'task-abcdefghijklmnopqrstuvwxyz0123']);
      expectKept('aws_access_key', ['AKIAIOSFODNN7EXAMPL', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE1']);
      expectKept('github_token', ['ghp_short', 'xghp_abcdefghijklmnopqrstuvwxyz0123456789']);
      expectKept('google_api_key', ['AIzaShort']);
      expectKept('jwt', ['eyJhbGciOiJIUzI1NiJ9', 'eyJ.eyJ.x']);
      expectKept('private_key', ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----']);
    });
  });
});

describe('redact()', () => {
  it('counts spans per detector and in total, listing only detectors that fired', () => {
    const result = all.redact('mail a@b.com or c@d.org, card 4111111111111111, from 10.0.0.1');
    expect(result.findings).toEqual({ email: 2, card: 1, ipv4: 1 });
    expect(result.total).toBe(4);
    expect(result.text).toBe('mail [REDACTED:email] or [REDACTED:email], card [REDACTED:card], from [REDACTED:ipv4]');
  });

  it('returns the same string and no findings when nothing matches', () => {
    expect(all.redact('')).toEqual({ text: '', findings: {}, total: 0 });
    expect(all.redact('plain words only')).toEqual({ text: 'plain words only', findings: {}, total: 0 });
  });

  it('is repeatable: compiled regexes carry no state from one call to the next', () => {
    const text = 'x a@b.com y 4111111111111111';
    expect(all.redact(text)).toEqual(all.redact(text));
  });

  describe('overlapping detectors', () => {
    it('names a span claimed by two detectors after the longer claim and replaces it once', () => {
      const result = all.redact('Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123');
      expect(result).toEqual({ text: 'Authorization: [REDACTED:bearer_token]', findings: { bearer_token: 1 }, total: 1 });
    });

    it('merges partial overlaps into one replacement, so no piece of either span remains', () => {
      // The email claims `sk-...@example.com`; the key claims only `sk-...`; both go as one span.
      const result = all.redact('to sk-abcdefghijklmnopqrstuvwxyz0123@example.com now');
      expect(result).toEqual({ text: 'to [REDACTED:email] now', findings: { email: 1 }, total: 1 });
    });

    it('gives a tie of equal spans to the built-in detector over a custom pattern', () => {
      const custom = [{ name: 'ticket', pattern: String.raw`\b4111111111111111\b` }];
      expect(createRedactor({ custom }).redact('4111111111111111').findings).toEqual({ card: 1 });
    });

    it('never leaves card digits visible beside a shorter overlapping match', () => {
      const custom = [{ name: 'prefix', pattern: String.raw`ref 4111 1111` }];
      const result = createRedactor({ detectors: ['card'], custom }).redact('ref 4111 1111 1111 1111 end');
      expect(result).toEqual({ text: '[REDACTED:card] end', findings: { card: 1 }, total: 1 });
    });

    it('replaces touching spans separately', () => {
      const custom = [
        { name: 'aa', pattern: 'AA' },
        { name: 'bb', pattern: 'BB' },
      ];
      expect(createRedactor({ detectors: [], custom }).redact('AABB')).toEqual({ text: '[REDACTED:aa][REDACTED:bb]', findings: { aa: 1, bb: 1 }, total: 2 });
    });
  });
});

describe('adversarial input', () => {
  it.each([
    ['a long digit run', '1'.repeat(100_000)],
    ['digits split by single dashes', '12-'.repeat(40_000)],
    ['a long local part with no domain', `${'a.'.repeat(50_000)}@`],
    ['hex and colons', 'ab:'.repeat(40_000)],
    ['dotted numbers', '1.'.repeat(60_000)],
    ['an unterminated private key header, repeated', '-----BEGIN PRIVATE KEY-----'.repeat(2_000)],
  ])('redacts %s of ~100 KB in linear time', (_, text) => {
    const start = performance.now();
    all.redact(text);
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

describe('createRedactor options', () => {
  it('runs only the detectors asked for', () => {
    const result = createRedactor({ detectors: ['email'] }).redact('a@b.com 4111111111111111');
    expect(result.text).toBe('[REDACTED:email] 4111111111111111');
  });

  it('rejects an unknown detector name, listing the valid ones', () => {
    expect(() => createRedactor({ detectors: ['emial' as DetectorName] })).toThrow(/Unknown detector "emial"; the built-in detectors are private_key, jwt/);
  });

  it('uses a custom replacement text, built once per detector', () => {
    const calls: string[] = [];
    const redactor = createRedactor({
      detectors: ['email', 'card'],
      replacement: (d) => {
        calls.push(d);
        return `<${d.toUpperCase()}>`;
      },
    });
    expect(redactor.redact('a@b.com, 4111111111111111, c@d.com').text).toBe('<EMAIL>, <CARD>, <EMAIL>');
    expect(calls).toEqual(['card', 'email']);
  });

  it('rejects a replacement that a detector would redact again', () => {
    expect(() => createRedactor({ replacement: () => 'contact admin@example.com' })).toThrow(RedactorConfigError);
    expect(() => createRedactor({ replacement: () => 'contact admin@example.com' })).toThrow(/is itself matched by "email"/);
  });
});

describe('custom patterns', () => {
  const custom = [
    { name: 'employee_id', pattern: String.raw`\bEMP-\d{6}\b` },
    { name: 'project', pattern: String.raw`\bproject[ -]falcon\b`, flags: 'i' },
  ];

  it('redact and count under their own names', () => {
    const result = createRedactor({ custom }).redact('EMP-123456 asked about Project Falcon and EMP-654321');
    expect(result).toEqual({
      text: '[REDACTED:employee_id] asked about [REDACTED:project] and [REDACTED:employee_id]',
      findings: { employee_id: 2, project: 1 },
      total: 3,
    });
  });

  it('rejects an invalid regex, naming the pattern', () => {
    const bad = () => createRedactor({ custom: [{ name: 'broken', pattern: '(unclosed' }] });
    expect(bad).toThrow(/Custom pattern "broken": invalid regular expression/);
    try {
      bad();
    } catch (error) {
      expect(error).toBeInstanceOf(RedactorConfigError);
      expect((error as RedactorConfigError).detector).toBe('broken');
    }
  });

  it.each([
    [{ name: 'nested', pattern: '(a+)+$' }, /"nested": a repeated group contains a repetition \(\(a\+\)\+\)/],
    [{ name: 'words', pattern: String.raw`^(\w+\s?)*$` }, /"words": .*catastrophic backtracking/],
    [{ name: 'optional', pattern: String.raw`(#\d+)?!` }, null],
    [{ name: 'counted', pattern: String.raw`(x\d+){2,}` }, /"counted": a repeated group/],
    [{ name: 'outer', pattern: String.raw`((ab)*c)+` }, /"outer": a repeated group/],
    [{ name: 'long', pattern: 'a'.repeat(MAX_CUSTOM_PATTERN_LENGTH + 1) }, /more than the limit of 512/],
    [{ name: 'empty', pattern: 'x*' }, /"empty": pattern matches the empty string/],
    [{ name: 'blank', pattern: '' }, /"blank": pattern is empty/],
    [{ name: 'flags', pattern: 'x', flags: 'gy' }, /"flags": flags "gy" are not allowed/],
    [{ name: 'email', pattern: 'x' }, /"email": name is already used by a built-in detector/],
    [{ name: '1bad name', pattern: 'x' }, /"1bad name": name must start with a letter/],
    [{ name: 'greedy', pattern: '[A-Z]+' }, /replacement for "[a-z_0-9]+" .* is itself matched by "greedy"/],
  ])('validates %o', (pattern, error) => {
    const build = () => createRedactor({ custom: [pattern] });
    if (error === null) expect(build).not.toThrow();
    else expect(build).toThrow(error);
  });

  it('rejects two custom patterns with one name', () => {
    expect(() => createRedactor({ custom: [custom[0]!, custom[0]!] })).toThrow(/"employee_id": name is used by more than one custom pattern/);
  });

  it('ignores repetition characters inside classes and escapes when looking for nesting', () => {
    expect(() => createRedactor({ custom: [{ name: 'literal', pattern: String.raw`(\+[*+]x)+` }] })).not.toThrow();
  });

  it('steps over empty matches of a lookaround-only pattern instead of looping', () => {
    const result = createRedactor({ detectors: [], custom: [{ name: 'look', pattern: '(?=q)' }] }).redact('aqa');
    expect(result).toEqual({ text: 'aqa', findings: {}, total: 0 });
  });
});

describe('properties', () => {
  /** Adds the Luhn check digit, so every generated body yields a valid card number. */
  function withCheckDigit(body: string): string {
    for (let d = 0; d <= 9; d++) {
      const candidate = `${body}${d}`;
      let sum = 0;
      for (let i = 0; i < candidate.length; i++) {
        let v = Number(candidate[candidate.length - 1 - i]);
        if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
        sum += v;
      }
      if (sum % 10 === 0) return candidate;
    }
    throw new Error('unreachable');
  }

  const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
  const card = fc
    .tuple(fc.constantFrom('4', '51', '37', '6011'), fc.constantFrom('', ' ', '-'))
    .chain(([prefix, sep]) => digits(15 - prefix.length).map((rest) => ({ digits: withCheckDigit(prefix + rest), sep })))
    .map(({ digits: number, sep }) => (sep === '' ? number : number.match(/.{1,4}/g)!.join(sep)));
  const alnum = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), minLength: min, maxLength: max });
  const email = fc.tuple(alnum(1, 12), alnum(1, 10), fc.constantFrom('com', 'org', 'io', 'co.uk')).map(([user, host, tld]) => `${user}@${host}.${tld}`);
  const apiKey = fc.oneof(
    alnum(32, 48).map((s) => `sk-proj-${s}`),
    alnum(40, 40).map((s) => `sk-ant-api03-${s}`),
    fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), minLength: 16, maxLength: 16 }).map((s) => `AKIA${s}`),
    alnum(36, 36).map((s) => `ghp_${s}`),
    alnum(35, 35).map((s) => `AIza${s}`),
  );
  /** Noise rich in the characters detectors look at, so boundaries get exercised. */
  const noise = fc.string({ unit: fc.constantFrom(...'ab Z09 .-:@+()/_\n[]1234'), maxLength: 12 });
  const planted = fc.oneof(card, email, apiKey);
  const document = fc.array(fc.oneof({ arbitrary: noise, weight: 3 }, { arbitrary: planted, weight: 1 }), { maxLength: 12 }).map((parts) => parts.join(' '));

  it('redacting twice changes nothing and finds nothing more', () => {
    fc.assert(
      fc.property(fc.oneof(document, fc.string(), noise), (text) => {
        const once = all.redact(text);
        const twice = all.redact(once.text);
        expect(twice.text).toBe(once.text);
        expect(twice.total).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a planted card number, email or API key through', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(noise, planted), { minLength: 1, maxLength: 6 }), (pairs) => {
        const text = pairs.map(([before, secret]) => `${before} ${secret}`).join(' ');
        const out = all.redact(text).text;
        for (const [, secret] of pairs) {
          expect(out).not.toContain(secret);
          // Not even a tail of it: the last eight characters would already identify a card.
          expect(out).not.toContain(secret.slice(-8));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

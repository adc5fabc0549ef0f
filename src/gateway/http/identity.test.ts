import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate, GatewayKeys, presentedKey } from './identity.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const keys = new GatewayKeys([
  { sha256: sha256('key-of-alice-0123456789abcdef'), user: 'alice', team: 'payments' },
  { sha256: sha256('key-of-the-risk-team-0123456'), team: 'risk' },
]);

describe('presentedKey', () => {
  it('reads a bearer token or x-api-key, preferring x-api-key as Anthropic clients send it', () => {
    expect(presentedKey({ authorization: 'Bearer sk-1' })).toBe('sk-1');
    expect(presentedKey({ authorization: 'bearer   sk-2 ' })).toBe('sk-2');
    expect(presentedKey({ 'x-api-key': 'sk-3', authorization: 'Bearer other' })).toBe('sk-3');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedKey({ authorization: 'Bearer ' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});

describe('authenticate', () => {
  it('maps a known gateway key to its user and team (as tenant), keeping the key for hashing', () => {
    expect(authenticate({ authorization: 'Bearer key-of-alice-0123456789abcdef' }, 'gateway_keys', keys)).toEqual({
      ok: true,
      identity: { user: 'alice', tenant: 'payments', apiKey: 'key-of-alice-0123456789abcdef' },
    });
    expect(authenticate({ 'x-api-key': 'key-of-the-risk-team-0123456' }, 'gateway_keys', keys)).toEqual({
      ok: true,
      identity: { tenant: 'risk', apiKey: 'key-of-the-risk-team-0123456' },
    });
  });

  it('refuses a missing key and an unknown one, naming what to send', () => {
    expect(authenticate({}, 'gateway_keys', keys)).toMatchObject({ ok: false, problem: expect.stringMatching(/Authorization: Bearer <key>.*x-api-key/) });
    expect(authenticate({ authorization: 'Bearer key-of-alice-0123456789abcdeF' }, 'gateway_keys', keys)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not a gateway key/),
    });
  });

  it('passes any key (or none) through, for the provider to judge', () => {
    expect(authenticate({ authorization: 'Bearer sk-client' }, 'pass_through', keys)).toEqual({ ok: true, identity: { apiKey: 'sk-client' } });
    expect(authenticate({}, 'pass_through', keys)).toEqual({ ok: true, identity: {} });
  });
});

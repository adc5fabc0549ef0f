import { describe, expect, it } from 'vitest';
import { contextCheck, encodeHeader, MAX_SUBJECT_BYTES, parseCiphertext, type ParsedCiphertext } from './ciphertext-format.js';

const header = { subject: 'ünïcode', dekVersion: 7, keyCheck: Buffer.alloc(8, 0xaa), contextCheck: Buffer.alloc(4, 0xbb) };
const nonce = Buffer.alloc(12, 0xcc);
const body = Buffer.from('sealed');
const tag = Buffer.alloc(16, 0xdd);

function parsed(bytes: Buffer): ParsedCiphertext {
  const result = parseCiphertext(bytes);
  if ('malformed' in result) throw new Error(result.malformed);
  return result;
}

describe('ciphertext format v1', () => {
  it('lays out version, subject length and subject, key version, key check, context check, nonce, body, tag', () => {
    const encoded = encodeHeader(header);
    const subject = Buffer.from('ünïcode');
    expect(encoded).toEqual(Buffer.concat([Buffer.from([1, 0, subject.length]), subject, Buffer.from([0, 0, 0, 7]), header.keyCheck, header.contextCheck]));
    const all = parsed(Buffer.concat([encoded, nonce, body, tag]));
    expect(all).toMatchObject({
      subject: 'ünïcode',
      dekVersion: 7,
      keyCheck: header.keyCheck,
      contextCheck: header.contextCheck,
      header: encoded,
      nonce,
      body,
      tag,
    });
  });

  it('allows an empty body (empty plaintext)', () => {
    expect(parsed(Buffer.concat([encodeHeader(header), nonce, tag])).body.length).toBe(0);
  });

  it.each([
    ['empty input', Buffer.alloc(0), /too short/],
    ['another format version', Buffer.from([2, 0, 1, 0x61]), /unsupported format version 2/],
    ['an empty subject', Buffer.concat([Buffer.from([1, 0, 0]), Buffer.alloc(60)]), /subject length 0/],
    ['a subject longer than the limit', Buffer.concat([Buffer.from([1, 0xff, 0xff]), Buffer.alloc(70_000)]), /subject length 65535/],
    ['a truncated ciphertext', encodeHeader(header), /shorter than the header, nonce and tag/],
    ['a subject that is not UTF-8', Buffer.concat([Buffer.from([1, 0, 1, 0xff]), Buffer.alloc(44)]), /not valid UTF-8/],
  ])('calls %s malformed', (_name, bytes, why) => {
    const result = parseCiphertext(bytes);
    expect('malformed' in result && result.malformed).toMatch(why);
  });

  it('keeps subjects up to the limit', () => {
    const subject = 'x'.repeat(MAX_SUBJECT_BYTES);
    expect(parsed(Buffer.concat([encodeHeader({ ...header, subject }), nonce, tag])).subject).toBe(subject);
  });

  it('gives each record and field its own context check, unambiguously framed', () => {
    expect(contextCheck('ab', 'c')).not.toEqual(contextCheck('a', 'bc'));
    expect(contextCheck('r1', 'prompt')).not.toEqual(contextCheck('r1', 'response'));
    expect(contextCheck('r1', 'prompt')).toEqual(contextCheck('r1', 'prompt'));
  });
});

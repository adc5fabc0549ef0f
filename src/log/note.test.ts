import { describe, expect, it } from 'vitest';
import { generateSignerKey, isValidKeyName, NoteError, openNote, parseSignerKey, parseVerifierKey, signNote, verifierKeyOf } from './note.js';

/*
 * Known answers from Go's golang.org/x/mod/sumdb/note (note.go package documentation and
 * note_test.go: TestNewVerifier, TestNewSigner, TestSign, TestOpen). Ed25519 signatures are
 * deterministic, so signing the same text must give Go's signature byte for byte.
 */
const PETER_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VERIFIER = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('keys in the format of Go sumdb/note', () => {
  it("derives Go's verifier key and key ID from Go's signer key", () => {
    expect(verifierKeyOf(PETER_SIGNER)).toBe(PETER_VERIFIER);
    const signer = parseSignerKey(PETER_SIGNER);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe('c74f20a3');
    expect(parseVerifierKey(ENOCH_VERIFIER).keyId).toBe('af0cfe78');
  });

  it('generates keys Go would accept: the key ID is SHA-256(name || "\\n" || 0x01 || public key)[:4]', () => {
    const signerKey = generateSignerKey('example.com/log');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const verifier = parseVerifierKey(verifierKeyOf(signerKey));
    expect(verifier.keyId).toBe(signerKey.split('+')[3]);
    expect(openNote(signNote('hello\n', parseSignerKey(signerKey)), verifier)).toBe('hello\n');
  });

  it('rejects every truncation and every changed character of a verifier key (TestNewVerifier)', () => {
    const accepted: string[] = [];
    for (const key of manglings(PETER_VERIFIER)) {
      try {
        parseVerifierKey(key);
        accepted.push(key);
      } catch (err) {
        expect(err).toBeInstanceOf(NoteError);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('rejects every truncation and every changed character of a signer key (TestNewSigner)', () => {
    const accepted = manglings(PETER_SIGNER).filter((key) => {
      try {
        parseSignerKey(key);
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toEqual([]);
  });

  it.each([
    [
      'a key of the wrong length',
      `PeterNeumann+c74f20a3+${Buffer.concat([Buffer.from([1]), Buffer.alloc(31, 7)]).toString('base64')}`,
      /the public key is 31 bytes long; Ed25519 keys are 32/,
    ],
    [
      "Go's wrong-length key, which is not canonical base64 either",
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
      /the public key is not canonical base64/,
    ],
    ['an unknown algorithm', 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /not of type 0x01/],
    ['a key ID of another key', 'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /key ID c74f20a4 does not belong/],
    ['a name with a space', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /key name/],
  ])('names the problem with %s', (_what, key, message) => {
    expect(() => parseVerifierKey(key)).toThrow(message);
  });

  it('never repeats a secret key in an error message', () => {
    const broken = PETER_SIGNER.replace('c74f20a3', 'c74f20a4');
    expect(() => parseSignerKey(broken)).toThrow(NoteError);
    try {
      parseSignerKey(broken);
    } catch (err) {
      expect((err as Error).message).not.toContain('AYEKFALV');
    }
  });

  it.each(['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\tb', 'a\u0001b', '\ud800'])('refuses the key name %j', (name) => {
    expect(isValidKeyName(name)).toBe(false);
    expect(() => generateSignerKey(name)).toThrow(NoteError);
  });
});

describe('signed notes', () => {
  it('signs exactly as Go does (TestSign)', () => {
    expect(signNote(TEXT, parseSignerKey(PETER_SIGNER))).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('opens a note with the given key and ignores signatures by unknown keys (TestOpen)', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(openNote(note, parseVerifierKey(PETER_VERIFIER))).toBe(TEXT);
    expect(openNote(note, parseVerifierKey(ENOCH_VERIFIER))).toBe(TEXT);
  });

  it('requires a signature by the given key', () => {
    const someoneElse = parseVerifierKey(verifierKeyOf(generateSignerKey('PeterNeumann')));
    expect(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, someoneElse)).toThrow(
      `no signature by key PeterNeumann+${someoneElse.keyId}; the note is signed only by PeterNeumann+c74f20a3, EnochRoot+af0cfe78`,
    );
  });

  it('rejects a note whose signature by the given key does not verify', () => {
    const tampered = `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(() => openNote(tampered, parseVerifierKey(PETER_VERIFIER))).toThrow('line 4: the signature by PeterNeumann+c74f20a3 does not verify');
  });

  it.each([
    ['no signatures', TEXT, /no blank line/],
    ['a blank line but no signatures', `${TEXT}\n`, /no blank line|signature block/],
    ['a signature line without its newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`, /signature block/],
    ['a control character', `\u0001${TEXT}\n${PETER_SIG}`, /line 1 contains the control character U\+0001/],
    ['a replacement for invalid UTF-8', `\ufffd${TEXT}\n${PETER_SIG}`, /does not verify/],
    [
      'a key name with a space',
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      /line 4: signature is not padded standard base64/,
    ],
    ['an unexpected line after the signatures', `${TEXT}\n${PETER_SIG}Unexpected line.\n`, /line 5: a signature line starts with an em dash/],
    ['a hyphen for the em dash', `${TEXT}\n${PETER_SIG.replace('—', '-')}`, /em dash/],
    ['a carriage return', `${TEXT.replace(/\n/g, '\r\n')}\n${PETER_SIG}`, /line 1 contains the control character U\+000D/],
    ['101 signatures', `${TEXT}\n${PETER_SIG.repeat(101)}`, /at most 100/],
  ])('rejects a note with %s (TestOpen)', (_what, note, message) => {
    expect(() => openNote(note, parseVerifierKey(PETER_VERIFIER))).toThrow(NoteError);
    expect(() => openNote(note, parseVerifierKey(PETER_VERIFIER))).toThrow(message);
  });

  it('refuses to sign text that a verifier would not open', () => {
    const signer = parseSignerKey(PETER_SIGNER);
    expect(() => signNote('no final newline', signer)).toThrow(/must end with a newline/);
    expect(() => signNote('tab\there\n', signer)).toThrow(/control character U\+0009/);
  });
});

/** Every proper substring, and every single character moved one code point up. */
function manglings(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= key.length; i++) {
    for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
  }
  for (let i = 0; i < key.length; i++) out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
  return out;
}

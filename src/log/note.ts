import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { decodeStrictBase64 } from './base64.js';

/**
 * Signed notes (https://c2sp.org/signed-note) with Ed25519 keys written the way Go's
 * golang.org/x/mod/sumdb/note writes them, so keys and notes work with Go tooling and witnesses.
 */

export class NoteError extends Error {
  override readonly name = 'NoteError';
}

/** A public key as a note verifier knows it. */
export interface NoteKey {
  readonly name: string;
  /** The 32-bit key ID as Go prints it: 8 lower-case hex digits. */
  readonly keyId: string;
  /** `<name>+<keyId>+<base64(0x01 || public key)>` */
  readonly verifierKey: string;
  readonly publicKey: KeyObject;
}

export interface NoteSignerKey extends NoteKey {
  readonly privateKey: KeyObject;
}

const ED25519 = 0x01;
const SIGNATURE_LINE_PREFIX = '\u2014 ';
// Go's limit. The spec requires accepting at least 16 and asks verifiers to bound the work.
const MAX_SIGNATURES = 100;
// RFC 8410 PKCS #8 wrapping of a raw Ed25519 seed: node:crypto imports private keys no other way.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const CONTROL_CHARACTER = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Key names must be non-empty, without Unicode spaces or '+', as the spec and Go require. */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name !== '' && !/[\p{White_Space}+]/u.test(name) && !CONTROL_CHARACTER.test(name) && !LONE_SURROGATE.test(name);
}

/** A new Ed25519 key in Go's signer key format: PRIVATE+KEY+<name>+<keyId>+<base64(0x01 || seed)>. */
export function generateSignerKey(name: string): string {
  requireKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  return `PRIVATE+KEY+${name}+${keyIdOf(name, publicKey)}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`;
}

export function verifierKeyOf(signerKey: string): string {
  return parseSignerKey(signerKey).verifierKey;
}

/** Parses a verifier key; the key ID must be the one the name and key imply. */
export function parseVerifierKey(text: string): NoteKey {
  const fields = splitKey(text, 3);
  if (!fields) throw new NoteError('a verifier key has the form <name>+<key id>+<base64 key>');
  const [name, keyId, key64] = fields;
  requireKeyName(name);
  requireKeyIdSyntax(keyId);
  const publicKey = decodeKeyData(key64, 'public key');
  const key = publicKeyObject(publicKey);
  requireKeyId(keyId, name, publicKey);
  return { name, keyId: keyId.toLowerCase(), verifierKey: verifierKeyText(name, publicKey), publicKey: key };
}

/** Parses a signer key. Messages never repeat the key text: it is a secret. */
export function parseSignerKey(text: string): NoteSignerKey {
  const fields = splitKey(text, 5);
  if (!fields || fields[0] !== 'PRIVATE' || fields[1] !== 'KEY') {
    throw new NoteError('a signer key has the form PRIVATE+KEY+<name>+<key id>+<base64 key>');
  }
  const [, , name, keyId, key64] = fields;
  requireKeyName(name);
  requireKeyIdSyntax(keyId);
  const seed = decodeKeyData(key64, 'private key');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const rawPublicKey = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  requireKeyId(keyId, name, rawPublicKey);
  return { name, keyId: keyId.toLowerCase(), verifierKey: verifierKeyText(name, rawPublicKey), publicKey, privateKey };
}

/** The signed note: the text, a blank line, and one signature line by `signer`. */
export function signNote(text: string, signer: NoteSignerKey): string {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  requireNoteCharacters(text);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  const encoded = Buffer.concat([Buffer.from(signer.keyId, 'hex'), signature]).toString('base64');
  return `${text}\n${SIGNATURE_LINE_PREFIX}${signer.name} ${encoded}\n`;
}

/**
 * Returns the text of a note once a signature by `key` verifies. Signatures by other keys are
 * checked for form only and otherwise ignored, as the spec requires; a failing signature by
 * `key` rejects the whole note, as it recommends.
 */
export function openNote(note: string, key: NoteKey): string {
  if (typeof note !== 'string') throw new NoteError('a note must be text');
  requireNoteCharacters(note);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('no blank line separates the text from the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new NoteError('the signature block must be one or more lines, each ending in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`the note has ${lines.length} signatures; at most ${MAX_SIGNATURES} are accepted`);

  const firstLine = lineCount(text) + 2;
  const signers: string[] = [];
  let verified = false;
  lines.forEach((line, i) => {
    const where = `line ${firstLine + i}`;
    const sig = parseSignatureLine(line, where);
    signers.push(`${sig.name}+${sig.keyId}`);
    if (sig.name !== key.name || sig.keyId !== key.keyId) return;
    if (sig.signature.length !== 64 || !verify(null, Buffer.from(text, 'utf8'), key.publicKey, sig.signature)) {
      throw new NoteError(`${where}: the signature by ${key.name}+${key.keyId} does not verify`);
    }
    verified = true;
  });
  if (!verified) {
    throw new NoteError(`no signature by key ${key.name}+${key.keyId}; the note is signed only by ${[...new Set(signers)].join(', ')}`);
  }
  return text;
}

function parseSignatureLine(line: string, where: string): { name: string; keyId: string; signature: Buffer } {
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) throw new NoteError(`${where}: a signature line starts with an em dash (U+2014) and a space`);
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  if (space < 0 || !isValidKeyName(name)) throw new NoteError(`${where}: a signature line is "— <key name> <base64 signature>"`);
  let bytes: Buffer;
  try {
    bytes = decodeStrictBase64(rest.slice(space + 1));
  } catch (err) {
    throw new NoteError(`${where}: signature is ${(err as Error).message}`);
  }
  if (bytes.length < 5) throw new NoteError(`${where}: a signature holds a 4-byte key ID and at least one byte`);
  return { name, keyId: bytes.subarray(0, 4).toString('hex'), signature: bytes.subarray(4) };
}

function requireNoteCharacters(text: string): void {
  const control = CONTROL_CHARACTER.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase();
    throw new NoteError(`line ${lineCount(text.slice(0, control.index)) + 1} contains the control character U+${code}`);
  }
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) throw new NoteError(`line ${lineCount(text.slice(0, surrogate.index)) + 1} is not valid Unicode`);
}

function lineCount(text: string): number {
  return text.split('\n').length - 1;
}

/** Splits at the first count - 1 '+' signs: names never hold one, base64 may. */
function splitKey(text: string, count: number): string[] | undefined {
  if (typeof text !== 'string') return undefined;
  const fields: string[] = [];
  let rest = text;
  while (fields.length < count - 1) {
    const plus = rest.indexOf('+');
    if (plus < 0) return undefined;
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  fields.push(rest);
  return fields;
}

function requireKeyName(name: string | undefined): asserts name is string {
  if (!isValidKeyName(name as string)) throw new NoteError('a key name must be non-empty, without spaces, control characters or "+"');
}

function requireKeyIdSyntax(keyId: string | undefined): asserts keyId is string {
  if (!/^[0-9a-fA-F]{8}$/.test(keyId ?? '')) throw new NoteError('a key ID is 8 hex digits');
}

function requireKeyId(keyId: string, name: string, publicKey: Buffer): void {
  if (keyId.toLowerCase() !== keyIdOf(name, publicKey)) throw new NoteError(`key ID ${keyId} does not belong to this name and key`);
}

function decodeKeyData(text: string | undefined, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = decodeStrictBase64(text ?? '');
  } catch (err) {
    throw new NoteError(`the ${what} is ${(err as Error).message}`);
  }
  if (bytes[0] !== ED25519) throw new NoteError(`the ${what} is not of type 0x01 (Ed25519), the only one supported`);
  if (bytes.length !== 33) throw new NoteError(`the ${what} is ${bytes.length - 1} bytes long; Ed25519 keys are 32`);
  return bytes.subarray(1);
}

function publicKeyObject(publicKey: Buffer): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
  } catch (err) {
    throw new NoteError(`the public key is not an Ed25519 key: ${(err as Error).message}`);
  }
}

/** SHA-256(name || "\n" || 0x01 || public key), first 4 bytes. */
function keyIdOf(name: string, publicKey: Buffer): string {
  return createHash('sha256')
    .update(`${name}\n`, 'utf8')
    .update(Buffer.from([ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

function verifierKeyText(name: string, publicKey: Buffer): string {
  return `${name}+${keyIdOf(name, publicKey)}+${Buffer.concat([Buffer.from([ED25519]), publicKey]).toString('base64')}`;
}

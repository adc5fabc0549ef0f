import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpointBody, CheckpointError, generateSignerKey, NoteSigner, openCheckpoint, verifierKeyOf, type Checkpoint } from './checkpoint.js';
import { emptyRoot, leafHash } from './merkle.js';
import { parseSignerKey, signNote } from './note.js';

const ORIGIN = 'example.com/log';
const SIGNER_KEY = generateSignerKey(ORIGIN);
const signer = new NoteSigner(SIGNER_KEY);
const checkpoint: Checkpoint = { origin: ORIGIN, size: 20852163, root: leafHash(Buffer.from('root')) };

/** A note over arbitrary text with a valid signature, so only the checkpoint parsing can object. */
function signedText(text: string): string {
  return signNote(text, parseSignerKey(SIGNER_KEY));
}

describe('checkpoint text (c2sp.org/tlog-checkpoint)', () => {
  it('is origin, decimal size and base64 root, one per line, as in the spec example', () => {
    // The example checkpoint body of https://c2sp.org/tlog-checkpoint.
    const root = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
    expect(checkpointBody({ origin: 'example.com/behind-the-sofa', size: 20852163, root })).toBe(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
  });

  it('parses the spec example up to its signature, which needs the example log key', () => {
    const example =
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
      '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
    const ours = verifierKeyOf(generateSignerKey('example.com/behind-the-sofa'));
    expect(() => openCheckpoint(example, ours)).toThrow(
      /no signature by key example\.com\/behind-the-sofa\+[0-9a-f]{8}; the note is signed only by example\.com\/behind-the-sofa\+033de0ae/,
    );
  });

  it('carries a pruning horizon as one extension line after the root, and only when something was pruned', () => {
    const body = checkpointBody({ ...checkpoint, size: 10, prunedBelow: 4 });
    expect(body.split('\n')).toEqual([ORIGIN, '10', checkpoint.root.toString('base64'), 'llm-ledger-pruned-below 4', '']);
    expect(checkpointBody({ ...checkpoint, prunedBelow: 0 })).toBe(checkpointBody(checkpoint));
    expect(openCheckpoint(signer.sign({ ...checkpoint, size: 10, prunedBelow: 4 }), signer.verifierKey)).toEqual({ ...checkpoint, size: 10, prunedBelow: 4 });
    expect(openCheckpoint(signer.sign(checkpoint), signer.verifierKey)).not.toHaveProperty('prunedBelow');
  });

  it.each([
    ['a pruning horizon beyond the size', { ...checkpoint, size: 3, prunedBelow: 4 }, /pruning horizon/],
    ['an empty origin', { ...checkpoint, origin: '' }, /origin/],
    ['an origin over two lines', { ...checkpoint, origin: 'a\nb' }, /origin/],
    ['a negative size', { ...checkpoint, size: -1 }, /size/],
    ['a fractional size', { ...checkpoint, size: 1.5 }, /size/],
    ['a short root', { ...checkpoint, root: Buffer.alloc(31) }, /32-byte/],
  ])('refuses to write a checkpoint with %s', (_what, cp, message) => {
    expect(() => checkpointBody(cp)).toThrow(CheckpointError);
    expect(() => signer.sign(cp)).toThrow(message);
  });
});

describe('NoteSigner', () => {
  it('exposes the name, key ID and verifier key of its signer key', () => {
    const signerKey = generateSignerKey(ORIGIN);
    const s = new NoteSigner(signerKey);
    expect(s.name).toBe(ORIGIN);
    expect(s.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(s.verifierKey).toBe(verifierKeyOf(signerKey));
    expect(s.verifierKey.startsWith(`${ORIGIN}+${s.keyId}+`)).toBe(true);
  });

  it('writes the body, a blank line and one em-dash signature line', () => {
    const note = signer.sign(checkpoint);
    const lines = note.split('\n');
    expect(lines.slice(0, 4)).toEqual([ORIGIN, '20852163', checkpoint.root.toString('base64'), '']);
    expect(lines[4]).toMatch(new RegExp(`^\u2014 ${ORIGIN} [A-Za-z0-9+/]{91}=$`));
    expect(
      Buffer.from(lines[4]?.split(' ')[2] ?? '', 'base64')
        .subarray(0, 4)
        .toString('hex'),
    ).toBe(signer.keyId);
    expect(lines[5]).toBe('');
    expect(lines).toHaveLength(6);
  });

  it('refuses a malformed signer key without repeating it', () => {
    const key = generateSignerKey(ORIGIN);
    const broken = key.slice(0, -2) + (key.endsWith('A=') ? 'B=' : 'A=');
    expect(() => new NoteSigner(broken)).toThrow(CheckpointError);
    expect(() => new NoteSigner(broken)).toThrow(/^signer key: /);
    try {
      new NoteSigner(broken);
    } catch (err) {
      expect((err as Error).message).not.toContain(broken.split('+').slice(4).join('+'));
    }
  });
});

describe('openCheckpoint', () => {
  it('returns what was signed, for any checkpoint', () => {
    const origin = fc.stringMatching(/^[a-z0-9./-]{1,40}$/);
    const root = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(origin, fc.maxSafeNat(), root, (o, size, r) => {
        const cp = { origin: o, size, root: r };
        expect(openCheckpoint(signer.sign(cp), signer.verifierKey, o)).toEqual(cp);
      }),
    );
  });

  it('opens the empty tree', () => {
    const empty = { origin: ORIGIN, size: 0, root: emptyRoot() };
    expect(openCheckpoint(signer.sign(empty), signer.verifierKey)).toEqual(empty);
  });

  it('rejects every single-bit flip and every inverted byte of a signed checkpoint', () => {
    const bytes = Buffer.from(signer.sign(checkpoint), 'utf8');
    const accepted: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [1, 2, 4, 8, 16, 32, 64, 128, 255]) {
        const changed = Buffer.from(bytes);
        changed.writeUInt8(changed.readUInt8(i) ^ mask, i);
        try {
          openCheckpoint(changed.toString('utf8'), signer.verifierKey, ORIGIN);
          accepted.push(`byte ${i} ^ ${mask}`);
        } catch (err) {
          expect(err).toBeInstanceOf(CheckpointError);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('ignores signatures by other keys, such as witness cosignatures', () => {
    const witness = parseSignerKey(generateSignerKey('witness.example/w1'));
    const body = checkpointBody(checkpoint);
    const witnessLine = signNote(body, witness).slice(body.length + 1);
    const cosigned = signer.sign(checkpoint) + witnessLine;
    expect(openCheckpoint(cosigned, signer.verifierKey, ORIGIN)).toEqual(checkpoint);
    expect(openCheckpoint(`${body}\n${witnessLine}${signer.sign(checkpoint).slice(body.length + 1)}`, signer.verifierKey)).toEqual(checkpoint);
  });

  it('rejects a checkpoint signed only by another key, naming who did sign it', () => {
    const other = new NoteSigner(generateSignerKey(ORIGIN));
    expect(() => openCheckpoint(other.sign(checkpoint), signer.verifierKey)).toThrow(CheckpointError);
    expect(() => openCheckpoint(other.sign(checkpoint), signer.verifierKey)).toThrow(
      `signed note: no signature by key ${ORIGIN}+${signer.keyId}; the note is signed only by ${ORIGIN}+${other.keyId}`,
    );
  });

  it('rejects a bad signature by the expected key', () => {
    const note = signer.sign(checkpoint);
    const signature = note.trimEnd().split(' ').at(-1) as string;
    const forged = Buffer.from(signature, 'base64');
    forged.writeUInt8(forged.readUInt8(10) ^ 1, 10);
    expect(() => openCheckpoint(note.replace(signature, forged.toString('base64')), signer.verifierKey)).toThrow(
      `signed note: line 5: the signature by ${ORIGIN}+${signer.keyId} does not verify`,
    );
  });

  it('rejects a checkpoint of another log', () => {
    expect(() => openCheckpoint(signer.sign(checkpoint), signer.verifierKey, 'example.com/other')).toThrow(
      'origin mismatch: the checkpoint is for "example.com/log", expected "example.com/other"',
    );
  });

  it('rejects a malformed verifier key', () => {
    expect(() => openCheckpoint(signer.sign(checkpoint), 'not a key')).toThrow(/^verifier key: /);
  });

  const root64 = checkpoint.root.toString('base64');
  it.each([
    [
      'a size with a leading zero',
      `${ORIGIN}\n020852163\n${root64}\n`,
      'malformed line 2: tree size "020852163" is not a decimal number without leading zeros',
    ],
    ['a signed size', `${ORIGIN}\n+5\n${root64}\n`, /malformed line 2/],
    ['a negative size', `${ORIGIN}\n-1\n${root64}\n`, /malformed line 2/],
    ['a size in exponent notation', `${ORIGIN}\n1e3\n${root64}\n`, /malformed line 2/],
    ['a hexadecimal size', `${ORIGIN}\n0x10\n${root64}\n`, /malformed line 2/],
    ['a size with a trailing space', `${ORIGIN}\n5 \n${root64}\n`, 'malformed line 2: tree size "5 " is not a decimal number without leading zeros'],
    ['a size beyond 2^53', `${ORIGIN}\n9007199254740993\n${root64}\n`, /malformed line 2: tree size 9007199254740993 is larger/],
    [
      'a root in non-canonical base64',
      `${ORIGIN}\n5\n${root64.slice(0, 42)}${nextBase64Char(root64[42] as string)}=\n`,
      /malformed line 3: the root hash is not canonical base64/,
    ],
    ['a root without padding', `${ORIGIN}\n5\n${root64.slice(0, -1)}\n`, /malformed line 3: the root hash is not padded standard base64/],
    ['a root in URL-safe base64', `${ORIGIN}\n5\n${checkpoint.root.toString('base64url')}\n`, /malformed line 3/],
    ['a 31-byte root', `${ORIGIN}\n5\n${Buffer.alloc(31).toString('base64')}\n`, 'malformed line 3: the root hash is 31 bytes long, not 32'],
    ['an extension line', `${ORIGIN}\n5\n${root64}\nextra\n`, "malformed line 4: extension lines other than 'llm-ledger-pruned-below <n>' are not accepted"],
    ['a second extension line', `${ORIGIN}\n5\n${root64}\nllm-ledger-pruned-below 2\nextra\n`, /malformed line 5: extension lines other than/],
    [
      'a pruning horizon beyond the size',
      `${ORIGIN}\n5\n${root64}\nllm-ledger-pruned-below 6\n`,
      'malformed line 4: the pruning horizon 6 must be from 1 to the tree size 5',
    ],
    ['a pruning horizon of 0', `${ORIGIN}\n5\n${root64}\nllm-ledger-pruned-below 0\n`, /the pruning horizon 0 must be from 1/],
    ['a pruning horizon with a leading zero', `${ORIGIN}\n5\n${root64}\nllm-ledger-pruned-below 02\n`, /malformed line 4: extension lines other than/],
    ['no root line', `${ORIGIN}\n5\n`, 'the checkpoint has 2 line(s); it needs origin, tree size and root hash'],
    ['an empty origin line', `\n5\n${root64}\n`, 'malformed line 1: checkpoint lines must not be empty'],
    ['an empty line inside', `${ORIGIN}\n\n5\n${root64}\n`, 'malformed line 2: checkpoint lines must not be empty'],
  ])('rejects a validly signed checkpoint with %s', (_what, text, message) => {
    const note = signedText(text);
    expect(() => openCheckpoint(note, signer.verifierKey)).toThrow(CheckpointError);
    expect(() => openCheckpoint(note, signer.verifierKey)).toThrow(message);
  });

  it.each([
    ['Windows line endings', (note: string) => note.replace(/\n/g, '\r\n'), /line 1 contains the control character U\+000D/],
    ['no blank line before the signature', (note: string) => note.replace('\n\n', '\n'), /no blank line separates the text from the signatures/],
    ['no final newline', (note: string) => note.slice(0, -1), /each ending in a newline/],
    ['a hyphen for the em dash', (note: string) => note.replace('\u2014', '-'), /em dash/],
    ['a trailing line', (note: string) => `${note}junk\n`, /line 6: a signature line starts with an em dash/],
  ])('rejects a note with %s', (_what, mangle, message) => {
    expect(() => openCheckpoint(mangle(signer.sign(checkpoint)), signer.verifierKey)).toThrow(message);
  });
});

function nextBase64Char(c: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return alphabet[(alphabet.indexOf(c) + 1) % 64] as string;
}

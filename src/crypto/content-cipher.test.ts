import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_BYTES } from './ciphertext-format.js';
import { ContentDecryptionError, type ContentDecryptionReason } from './content-errors.js';
import { MemoryDataKeyStore } from './memory-data-key-store.js';
import { cipherWith, testKek } from './test-support/ciphers.js';

const SECRET = 'my card is 4111 1111 1111 1111';

/** The error decrypt throws, after checking it is a ContentDecryptionError that leaks no plaintext. */
async function decryptError(promise: Promise<string>): Promise<ContentDecryptionError> {
  const err = await promise.then(
    (text) => new Error(`decrypted to ${JSON.stringify(text.slice(0, 40))}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ContentDecryptionError);
  expect((err as Error).message).not.toContain(SECRET);
  return err as ContentDecryptionError;
}

describe('ContentCipher round trip', () => {
  const cipher = cipherWith([testKek(1)]);

  it.each([
    ['a prompt', SECRET],
    ['empty text', ''],
    ['non-ASCII text', 'Grüße, 日本語, emoji 🧾🔐, RTL עברית, combining é'],
    ['large text (5 MB)', 'x'.repeat(5 * 1024 * 1024)],
  ])('returns %s unchanged', async (_name, plaintext) => {
    const ciphertext = await cipher.encrypt({ recordId: 'rec-1', field: 'prompt', subject: 'user-1', plaintext });
    expect(await cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext })).toBe(plaintext);
  });

  it('never shows the plaintext in the ciphertext, and seals the same text differently each time', async () => {
    const a = await cipher.encrypt({ recordId: 'rec-1', field: 'prompt', subject: 'user-1', plaintext: SECRET });
    const b = await cipher.encrypt({ recordId: 'rec-1', field: 'prompt', subject: 'user-1', plaintext: SECRET });
    expect(a.includes(Buffer.from(SECRET))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('adds 47 bytes plus the subject to the UTF-8 plaintext', async () => {
    const ciphertext = await cipher.encrypt({ recordId: 'r', field: 'prompt', subject: 'user-1', plaintext: 'héllo' });
    expect(ciphertext.length).toBe(47 + 'user-1'.length + Buffer.byteLength('héllo'));
  });

  it('refuses an empty record id, field or subject, and an over-long subject without repeating it', async () => {
    const input = { recordId: 'r', field: 'prompt', subject: 'user-1', plaintext: 'x' };
    await expect(cipher.encrypt({ ...input, recordId: '' })).rejects.toThrow('record id must be a non-empty string');
    await expect(cipher.encrypt({ ...input, field: '' })).rejects.toThrow('field must be a non-empty string');
    await expect(cipher.encrypt({ ...input, subject: '' })).rejects.toThrow(`subject must be well-formed text of 1 to ${MAX_SUBJECT_BYTES} UTF-8 bytes`);
    const long = 'person@example.com'.repeat(100);
    await expect(cipher.encrypt({ ...input, subject: long })).rejects.toThrow(/^subject must be well-formed text/);
  });
});

describe('ContentCipher refuses, with a typed reason,', () => {
  const store = new MemoryDataKeyStore();
  const kek = testKek(1);
  const cipher = cipherWith([kek], store);
  const seal = (recordId: string, field: string, subject = 'user-1') => cipher.encrypt({ recordId, field, subject, plaintext: SECRET });

  it('content whose data key is wrapped by a KEK that is not configured (wrong KEK)', async () => {
    const ciphertext = await seal('rec-1', 'prompt');
    const err = await decryptError(cipherWith([testKek(2)], store).decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext }));
    expect(err.reason).toBe('unknown-key');
    expect(err.message).toContain(`wrapped by key-encryption key ${kek.id}, which is not configured (configured: ${testKek(2).id})`);
  });

  it('content whose KEK id is configured with other key material (wrong KEK under the right id)', async () => {
    const ciphertext = await seal('rec-1', 'prompt');
    const impostor = { id: kek.id, key: testKek(2).key };
    const err = await decryptError(cipherWith([impostor], store).decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext }));
    expect(err.reason).toBe('wrong-key');
    expect(err.message).toMatch(/did not unwrap data key v1: .*or the KEK under that id is not the one that wrapped it/);
  });

  it('content whose wrapped data key was altered in the store', async () => {
    const altered = new MemoryDataKeyStore();
    const writer = cipherWith([kek], altered);
    const ciphertext = await writer.encrypt({ recordId: 'rec-1', field: 'prompt', subject: 'u', plaintext: SECRET });
    const [stored] = (await altered.get('u')).keys;
    if (!stored) throw new Error('no key stored');
    stored.wrapped[20] = (stored.wrapped[20] ?? 0) ^ 1;
    await altered.replace(stored);
    const err = await decryptError(cipherWith([kek], altered).decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext }));
    expect(err.reason).toBe('wrong-key');
  });

  it('a ciphertext with any single byte flipped, at every position', async () => {
    const ciphertext = await cipher.encrypt({ recordId: 'rec-1', field: 'prompt', subject: 'u1', plaintext: 'short secret' });
    // With the 2-byte subject "u1": version 0, subject length 1-2, subject 3-4, key version 5-8,
    // key check 9-16, context check 17-20, then nonce, body and tag.
    const expected = (i: number): ContentDecryptionReason[] => {
      if (i <= 8) return ['malformed', 'unknown-key'];
      if (i <= 16) return ['wrong-key'];
      if (i <= 20) return ['wrong-record-or-field'];
      return ['tampered'];
    };
    for (let i = 0; i < ciphertext.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const flipped = Buffer.from(ciphertext);
        flipped[i] = (flipped[i] ?? 0) ^ bit;
        const err = await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: flipped }));
        expect(expected(i), `byte ${i}, bit ${bit}: ${err.message}`).toContain(err.reason);
      }
    }
  });

  it('a truncated or extended ciphertext', async () => {
    const ciphertext = await seal('rec-1', 'prompt');
    for (const bytes of [ciphertext.subarray(0, ciphertext.length - 1), ciphertext.subarray(0, 10), Buffer.concat([ciphertext, Buffer.from([0])])]) {
      const err = await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: bytes }));
      expect(['malformed', 'tampered']).toContain(err.reason);
    }
  });

  it('a ciphertext swapped between two records', async () => {
    const one = await seal('rec-1', 'prompt');
    const two = await seal('rec-2', 'prompt');
    const err = await decryptError(cipher.decrypt({ recordId: 'rec-2', field: 'prompt', ciphertext: one }));
    expect(err).toMatchObject({ reason: 'wrong-record-or-field', recordId: 'rec-2', field: 'prompt' });
    expect(err.message).toBe(
      'Cannot decrypt prompt of record rec-2 (wrong-record-or-field): it was sealed for a different record or field (or its context check bytes were altered)',
    );
    expect((await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: two }))).reason).toBe('wrong-record-or-field');
  });

  it('a ciphertext swapped between two fields of one record', async () => {
    const prompt = await seal('rec-1', 'prompt');
    const err = await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'response', ciphertext: prompt }));
    expect(err.reason).toBe('wrong-record-or-field');
  });

  it('a moved ciphertext whose context check was forged to match: the associated data still catches it', async () => {
    const prompt = await seal('rec-1', 'prompt');
    const response = await seal('rec-1', 'response');
    // The context check is at bytes 15+n..18+n, n = 6 for the subject "user-1".
    const forged = Buffer.from(prompt);
    response.copy(forged, 21, 21, 25);
    expect((await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'response', ciphertext: forged }))).reason).toBe('tampered');
  });

  it('a ciphertext relabelled with another key version of the same subject', async () => {
    const ciphertext = await seal('rec-1', 'prompt', 'relabel');
    await cipher.rotateDataKey('relabel');
    const relabelled = Buffer.from(ciphertext);
    relabelled.writeUInt32BE(2, 3 + 'relabel'.length);
    const err = await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: relabelled }));
    expect(err.reason).toBe('wrong-key');
    expect(err.message).toMatch(/not sealed with data key v2, the key its header names/);
  });

  it('a ciphertext relabelled with a key version that does not exist', async () => {
    const ciphertext = await seal('rec-1', 'prompt', 'relabel-missing');
    const relabelled = Buffer.from(ciphertext);
    relabelled.writeUInt32BE(9, 3 + 'relabel-missing'.length);
    expect((await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: relabelled }))).reason).toBe('unknown-key');
  });

  it('a ciphertext relabelled with another subject', async () => {
    const ciphertext = await seal('rec-1', 'prompt', 'user-a');
    await seal('rec-9', 'prompt', 'user-b');
    const relabelled = Buffer.from(ciphertext);
    relabelled.write('user-b', 3, 'utf8');
    expect((await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: relabelled }))).reason).toBe('wrong-key');
  });

  it('bytes that are not a content ciphertext, without repeating them', async () => {
    const err = await decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext: Buffer.from(SECRET) }));
    expect(err.reason).toBe('malformed');
    expect(err.message).toMatch(/^Cannot decrypt prompt of record rec-1 \(malformed\): not a content ciphertext: /);
  });

  it('and never names the subject in its messages', async () => {
    const subject = 'alice@example.com';
    const ciphertext = await seal('rec-1', 'prompt', subject);
    await cipher.destroySubject(subject);
    const errors = await Promise.all([
      decryptError(cipher.decrypt({ recordId: 'rec-1', field: 'prompt', ciphertext })),
      decryptError(cipher.decrypt({ recordId: 'rec-2', field: 'prompt', ciphertext })),
    ]);
    for (const err of errors) expect(err.message).not.toContain(subject);
  });
});

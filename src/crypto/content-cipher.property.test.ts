import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentDecryptionError } from './content-errors.js';
import { cipherWith, testKek } from './test-support/ciphers.js';

const cipher = cipherWith([testKek(1)]);
const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const subject = name.filter((s) => Buffer.byteLength(s) <= 1024);

describe('ContentCipher properties', () => {
  it('decrypts any well-formed text back to itself, for any record, field and subject', async () => {
    await fc.assert(
      fc.asyncProperty(name, name, subject, fc.string({ unit: 'binary', maxLength: 2000 }), async (recordId, field, subject, plaintext) => {
        const ciphertext = await cipher.encrypt({ recordId, field, subject, plaintext });
        expect(await cipher.decrypt({ recordId, field, ciphertext })).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the ciphertext under any other record id or field', async () => {
    await fc.assert(
      fc.asyncProperty(name, name, name, name, fc.string(), async (recordId, field, otherRecord, otherField, plaintext) => {
        fc.pre(recordId !== otherRecord || field !== otherField);
        const ciphertext = await cipher.encrypt({ recordId, field, subject: 's', plaintext });
        const err = await cipher.decrypt({ recordId: otherRecord, field: otherField, ciphertext }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ContentDecryptionError);
      }),
      { numRuns: 300 },
    );
  });
});

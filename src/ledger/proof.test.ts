import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSignerKey } from '../log/checkpoint.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import { openTestLedger, recordSequentially, tempDir } from './test-support/fixtures.js';

describe('prove and verifyProof', () => {
  it('produces a bundle that verifies offline for every record, against the trusted key', async () => {
    const ledger = await openTestLedger(tempDir(), { checkpointIntervalMs: 60_000 });
    const ids = await recordSequentially(ledger, 13);
    await ledger.flush();
    for (const [index, id] of ids.entries()) {
      const bundle = await ledger.prove(id);
      const result = verifyProof(serializeProof(bundle), { trustedVerifierKey: ledger.verifierKey });
      expect(result).toMatchObject({ ok: true, index, treeSize: 13, id, trustedKey: true });
    }
    await ledger.close();
  });

  it('rejects a bundle signed by another key than the trusted one', async () => {
    const ledger = await openTestLedger(tempDir());
    const [id] = await recordSequentially(ledger, 2);
    const other = await openTestLedger(tempDir());
    const result = verifyProof(await ledger.prove(id!), { trustedVerifierKey: other.verifierKey });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/different key/) });
    await ledger.close();
    await other.close();
  });

  it('rejects the bundle after any single byte of it is flipped', async () => {
    const ledger = await openTestLedger(tempDir(), { checkpointIntervalMs: 60_000 });
    const ids = await recordSequentially(ledger, 6);
    const text = Buffer.from(serializeProof(await ledger.prove(ids[3]!)));
    await ledger.close();
    expect(verifyProof(text).ok).toBe(true);
    for (let i = 0; i < text.length; i++) {
      const flipped = Buffer.from(text);
      flipped[i] = flipped[i]! ^ 0x01;
      const result = verifyProof(flipped);
      if (result.ok) throw new Error(`flipping byte ${i} (${JSON.stringify(text.subarray(i, i + 1).toString())}) was not detected`);
    }
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.integer({ min: 1, max: 255 }), (i, mask) => {
        const flipped = Buffer.from(text);
        flipped[i] = flipped[i]! ^ mask;
        expect(verifyProof(flipped).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a bundle whose verifier key was respelled (its key id in upper case)', async () => {
    const dir = tempDir();
    // A key whose id has a letter to respell (one in 40 is all digits).
    let signerKey = generateSignerKey('test');
    while (!/[a-f]/.test(signerKey.split('+')[3]!)) signerKey = generateSignerKey('test');
    writeFileSync(join(dir, 'signing.key'), signerKey, { mode: 0o600 });
    const ledger = await openTestLedger(dir);
    const [id] = await recordSequentially(ledger, 2);
    const bundle = await ledger.prove(id!);
    await ledger.close();
    // The base64 key after the second '+' may hold '+' itself.
    const [name, keyId, ...key] = bundle.verifierKey.split('+') as [string, string, ...string[]];
    const respelled = { ...bundle, verifierKey: `${name}+${keyId.toUpperCase()}+${key.join('+')}` };
    expect(verifyProof(serializeProof(respelled))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/verifier key is not written as llm-ledger writes it/),
    });
  });

  it('explains why a bundle is malformed', () => {
    expect(verifyProof('not json')).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
    expect(verifyProof({ format: 'x' })).toMatchObject({ ok: false, reason: expect.stringMatching(/malformed/) });
  });
});

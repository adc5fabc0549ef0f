import { ContentCipher } from '../src/crypto/content-cipher.js';
import { KekRing, kekFromText } from '../src/crypto/kek.js';
import { MemoryDataKeyStore } from '../src/crypto/memory-data-key-store.js';

/**
 * Encryptions per second of ~2 KB prompts for one subject, its data key already unwrapped and
 * cached: the steady state of ingest with encrypted content, without any store or ledger cost.
 */
export async function encryptionRate(): Promise<{ perSecond: number }> {
  const cipher = new ContentCipher({ keks: new KekRing([kekFromText('5e'.repeat(32), 'benchmark KEK')]), store: new MemoryDataKeyStore() });
  const plaintext = 'Summarise the attached incident report for the on-call engineer. '.repeat(32).slice(0, 2048);
  const encrypt = (i: number) => cipher.encrypt({ recordId: `rec-${i}`, field: 'prompt', subject: 'bench-user', plaintext });
  // Warm-up: creates the data key and lets the JIT settle before anything is timed.
  for (let i = 0; i < 2_000; i++) await encrypt(i);
  let count = 0;
  const start = process.hrtime.bigint();
  const budget = 1_000_000_000n;
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < 500; i++) await encrypt(count++);
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSecond: count / elapsed };
}

import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKekFile, KekRing, kekFromEnv, kekFromFile, kekFromText } from './kek.js';

const HEX = 'ab'.repeat(32);
const dir = () => mkdtempSync(join(tmpdir(), 'llm-ledger-kek-'));

describe('KEK from an environment variable', () => {
  it('accepts hex and base64 of the same 32 bytes as the same key, with the same id', () => {
    const hex = kekFromEnv({ LLM_LEDGER_KEK: HEX }, 'LLM_LEDGER_KEK');
    const base64 = kekFromEnv({ LLM_LEDGER_KEK: Buffer.from(HEX, 'hex').toString('base64') }, 'LLM_LEDGER_KEK');
    expect(hex.id).toMatch(/^kek-[0-9a-f]{16}$/);
    expect(base64.id).toBe(hex.id);
    expect(base64.key.equals(hex.key)).toBe(true);
  });

  it('accepts material longer than 32 bytes', () => {
    expect(kekFromEnv({ K: 'cd'.repeat(64) }, 'K').key.symmetricKeySize).toBe(32);
  });

  it('gives different material a different id, and an id that does not contain the material', () => {
    const a = kekFromText(HEX, 'a');
    const b = kekFromText('ac'.repeat(32), 'b');
    expect(a.id).not.toBe(b.id);
    expect(HEX).not.toContain(a.id.slice(4));
  });

  it('rejects a key shorter than 32 bytes, saying how long it must be and not showing it', () => {
    const short = 'ab'.repeat(31);
    expect(() => kekFromEnv({ LLM_LEDGER_KEK: short }, 'LLM_LEDGER_KEK')).toThrow(
      'LLM_LEDGER_KEK must hold at least 32 bytes (64 hex characters or 44 base64 characters)',
    );
    try {
      kekFromEnv({ LLM_LEDGER_KEK: short }, 'LLM_LEDGER_KEK');
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
  });

  it('rejects text that is neither hex nor base64, without echoing it', () => {
    expect(() => kekFromEnv({ K: 'correct horse battery staple '.repeat(3) }, 'K')).toThrow('K must be hex or base64 text (its value is not shown)');
  });

  it('says which variable is missing', () => {
    expect(() => kekFromEnv({}, 'LLM_LEDGER_KEK')).toThrow(/LLM_LEDGER_KEK is not set/);
  });
});

describe('KEK files', () => {
  it('generate writes a fresh key with mode 0600 that reads back as the same KEK', () => {
    const path = join(dir(), 'keys', 'kek');
    const generated = generateKekFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const read = kekFromFile(path);
    expect(read.id).toBe(generated.id);
    expect(read.key.equals(generated.key)).toBe(true);
  });

  it('generate never overwrites an existing key file', () => {
    const path = join(dir(), 'kek');
    const first = generateKekFile(path);
    expect(() => generateKekFile(path)).toThrow(/already exists; refusing to overwrite/);
    expect(kekFromFile(path).id).toBe(first.id);
  });

  it('refuses a key file other users can read', () => {
    const path = join(dir(), 'kek');
    generateKekFile(path);
    chmodSync(path, 0o644);
    expect(() => kekFromFile(path)).toThrow(`KEK file ${path} is readable by other users (mode 644); run chmod 600 ${path}`);
  });

  it('rejects a file holding a key shorter than 32 bytes with a clear message', () => {
    const path = join(dir(), 'kek');
    writeFileSync(path, 'ab'.repeat(16), { mode: 0o600 });
    expect(() => kekFromFile(path)).toThrow(`KEK file ${path} must hold at least 32 bytes (64 hex characters or 44 base64 characters)`);
  });

  it('says so when the file does not exist', () => {
    const path = join(dir(), 'missing');
    expect(() => kekFromFile(path)).toThrow(`KEK file ${path} cannot be read (ENOENT); create one with generate`);
  });
});

describe('KekRing', () => {
  const a = kekFromText('01'.repeat(32), 'a');
  const b = kekFromText('02'.repeat(32), 'b');

  it('wraps new keys with the last (newest) KEK and still finds the older ones', () => {
    const ring = new KekRing([a, b]);
    expect(ring.newest.id).toBe(b.id);
    expect(ring.get(a.id)).toBe(a);
    expect(ring.ids).toEqual([a.id, b.id]);
  });

  it('needs at least one KEK and refuses the same KEK twice', () => {
    expect(() => new KekRing([])).toThrow(/at least one key-encryption key/);
    expect(() => new KekRing([a, kekFromText('01'.repeat(32), 'again')])).toThrow(`key-encryption key ${a.id} is configured twice`);
  });
});

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { ContentDecryptionError } from '../crypto/content-errors.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import type { Ledger } from './ledger.js';
import { openLedger } from './open-ledger.js';
import { tempDir } from './test-support/fixtures.js';

const KEK = randomBytes(32).toString('hex');
const PROMPT = 'planted-prompt-7f3a: what is the balance of account 4471?';
const ANSWER = 'planted-answer-9c2e: the balance is 12.50';
const SYSTEM = 'planted-system-5d1b: you are a bank assistant';
const API_KEY = 'sk-planted-0123456789abcdefghijklmnop';
const HEADER_SECRET = 'Bearer planted-header-token-31f0';
const EMAIL = 'jane.planted@example.com';

function config(dir: string, capture: Record<string, unknown>, store = 'sqlite') {
  return configSchema(dir).parse({
    store: { type: store, path: store === 'sqlite' ? 'ledger.db' : 'jsonl' },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
    capture,
  });
}

async function open(dir: string, capture: Record<string, unknown>, env: NodeJS.ProcessEnv = { LLM_LEDGER_KEK: KEK }): Promise<Ledger> {
  return openLedger(config(dir, capture), { env, onWarning: () => undefined });
}

function call(user: string, extra: Record<string, unknown> = {}) {
  return {
    model: 'gpt-4o',
    provider: 'openai',
    user,
    apiKey: API_KEY,
    content: { system: SYSTEM, input: `${PROMPT} mail ${EMAIL}`, output: ANSWER },
    headers: { authorization: HEADER_SECRET, 'x-team': 'risk' },
    ...extra,
  };
}

/** Every byte the ledger left on disk: database, WAL, anchor, everything under the directory. */
function diskBytes(dir: string): Buffer {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  return Buffer.concat(files.map((d) => readFileSync(join(d.parentPath, d.name))));
}

function found(dir: string, text: string): boolean {
  return diskBytes(dir).includes(Buffer.from(text));
}

describe('capture modes, checked against every byte on disk', () => {
  for (const mode of ['none', 'hash', 'encrypted'] as const) {
    it(`${mode}: no prompt, response, system prompt, API key, header secret or email anywhere in the files`, async () => {
      const dir = tempDir();
      const ledger = await open(dir, { prompts: mode, responses: mode, headers: mode, headers_allow: ['x-team'] });
      await ledger.record(call('alice'));
      await ledger.close();
      expect(statSync(join(dir, 'ledger.db')).size).toBeGreaterThan(0);
      for (const planted of [PROMPT, ANSWER, SYSTEM, API_KEY, HEADER_SECRET, EMAIL, 'planted']) expect(found(dir, planted), planted).toBe(false);
    });
  }

  it('plaintext (with the explicit opt-in): the text is stored, PII redacted, keys and credential headers still never', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'plaintext', responses: 'plaintext', headers: 'plaintext', headers_allow: ['x-team'], allow_plaintext: true });
    const { id } = await ledger.record(call('alice'));
    const envelope = (await ledger.get(id))!.envelope;
    await ledger.close();
    expect(found(dir, PROMPT)).toBe(true);
    expect(found(dir, ANSWER)).toBe(true);
    for (const never of [API_KEY, HEADER_SECRET, EMAIL]) expect(found(dir, never), never).toBe(false);
    expect(envelope.capture).toMatchObject({ prompts: 'plaintext', responses: 'plaintext', pii: { findings: { email: 1 }, total: 1 } });
  });

  it('an excluded model keeps nothing of the text: no digests, no content', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'encrypted', responses: 'encrypted', exclude_models: ['gpt-4*'] });
    const { id } = await ledger.record(call('alice'));
    const { envelope } = (await ledger.get(id))!;
    await ledger.close();
    expect(envelope.digests).toBeUndefined();
    expect(envelope.capture).toMatchObject({ excluded: true, prompts: 'none', responses: 'none' });
    expect(found(dir, PROMPT)).toBe(false);
  });

  it('a request may lower its capture, never raise it', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'encrypted', responses: 'hash' });
    const lowered = await ledger.record(call('alice', { capture: 'none' }));
    const raised = await ledger.record(call('alice', { capture: 'responses=encrypted' }));
    expect((await ledger.get(lowered.id))!.envelope.capture).toMatchObject({ prompts: 'none', responses: 'none' });
    expect((await ledger.get(lowered.id))!.envelope.digests).toBeUndefined();
    expect((await ledger.get(raised.id))!.envelope.capture).toMatchObject({ prompts: 'encrypted', responses: 'hash' });
    expect((await ledger.reveal(raised.id, { actor: 'auditor', reason: 'test' })).content.output).toBeUndefined();
    await ledger.close();
  });

  it('refuses, at open, content capture on a JSONL store and encryption without a key-encryption key', async () => {
    const dir = tempDir();
    await expect(openLedger(config(dir, { prompts: 'encrypted' }, 'jsonl'), { env: { LLM_LEDGER_KEK: KEK } })).rejects.toThrow(
      /jsonl store cannot keep content/,
    );
    await expect(open(dir, { prompts: 'encrypted' }, {})).rejects.toThrow(/no key-encryption key is configured: set LLM_LEDGER_KEK/);
  });
});

describe('reveal', () => {
  it('decrypts for an authorised caller and records who looked and why before returning', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'encrypted', responses: 'encrypted', headers: 'encrypted', headers_allow: ['x-team'] });
    const { id } = await ledger.record(call('alice'));
    const revealed = await ledger.reveal(id, { actor: 'auditor-bo', reason: 'complaint #12' });
    expect(revealed.content).toEqual({ system: SYSTEM, input: `${PROMPT} mail [REDACTED:email]`, output: ANSWER, headers: { 'x-team': 'risk' } });
    const access = (await ledger.get(revealed.accessRecordId))!.envelope;
    expect(access).toMatchObject({ kind: 'content_accessed', user: 'auditor-bo', metadata: { recordId: id, reason: 'complaint #12' } });
    await expect(ledger.reveal(id, { actor: 'auditor-bo', reason: ' ' })).rejects.toThrow(/needs a reason/);
    await ledger.close();
  });

  it('fails with a typed, readable error under the wrong key-encryption key', async () => {
    const dir = tempDir();
    const writer = await open(dir, { prompts: 'encrypted' });
    const { id } = await writer.record(call('alice'));
    await writer.close();
    const wrong = await open(dir, { prompts: 'encrypted' }, { LLM_LEDGER_KEK: randomBytes(32).toString('hex') });
    const error = await wrong.reveal(id, { actor: 'a', reason: 'r' }).catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/key-encryption key|kek/i);
  });

  it('catches a flipped ciphertext byte and a ciphertext swapped between two records', async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'encrypted' });
    const a = await ledger.record(call('alice'));
    const b = await ledger.record(call('alice'));
    await ledger.close();
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    const row = db.prepare('SELECT data FROM content WHERE record_id = ?').get(a.id) as { data: Uint8Array };
    const flipped = Buffer.from(row.data);
    flipped[flipped.length - 20]! ^= 1;
    // b gets a's intact ciphertext (row id and all), then a's own is flipped.
    db.prepare('UPDATE content SET data = ?, record_id = ? WHERE record_id = ?').run(row.data, a.id, b.id);
    db.prepare('UPDATE content SET data = ? WHERE idx = ?').run(flipped, a.index);
    db.close();
    const reader = await open(dir, { prompts: 'encrypted' });
    const tampered = await reader.reveal(a.id, { actor: 'a', reason: 'r' }).catch((e: unknown) => e);
    const swapped = await reader.reveal(b.id, { actor: 'a', reason: 'r' }).catch((e: unknown) => e);
    await reader.close();
    expect(tampered).toBeInstanceOf(ContentDecryptionError);
    expect((tampered as ContentDecryptionError).reason).toBe('tampered');
    expect(swapped).toBeInstanceOf(ContentDecryptionError);
    expect((swapped as ContentDecryptionError).reason).toBe('wrong-record-or-field');
  });
});

describe('erasure', () => {
  it("destroys one subject's keys and content, records it, and leaves every other subject and every proof intact", async () => {
    const dir = tempDir();
    const ledger = await open(dir, { prompts: 'encrypted', responses: 'encrypted' });
    const alice = await ledger.record(call('alice'));
    const bob = await ledger.record(call('bob'));
    const proofBefore = await ledger.prove(alice.id);
    const result = await ledger.erase({ user: 'alice' });
    expect(result).toMatchObject({ subject: 'user:alice', keysDestroyed: 1, contentDeleted: 1 });
    expect((await ledger.get(result.erasureRecordId))!.envelope).toMatchObject({ kind: 'erasure', user: 'alice', metadata: { contentDeleted: 1 } });
    expect((await ledger.reveal(alice.id, { actor: 'a', reason: 'r' })).content).toEqual({});
    expect((await ledger.reveal(bob.id, { actor: 'a', reason: 'r' })).content.output).toBe(ANSWER);
    expect((await ledger.verify()).ok).toBe(true);
    expect(verifyProof(await ledger.prove(alice.id), { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    await ledger.close();
    expect(verifyProof(serializeProof(proofBefore), { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    const db = new DatabaseSync(join(dir, 'ledger.db'), { readOnly: true });
    expect(db.prepare("SELECT count(*) AS n FROM data_keys WHERE subject = 'user:alice'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses an erasure that names neither or both of user and tenant', async () => {
    const ledger = await open(tempDir(), { prompts: 'encrypted' });
    await expect(ledger.erase({ user: '' })).rejects.toThrow(/exactly one of user or tenant/);
    await expect(ledger.erase({ user: 'a', tenant: 'b' } as unknown as { user: string })).rejects.toThrow(/exactly one/);
    await ledger.close();
  });
});

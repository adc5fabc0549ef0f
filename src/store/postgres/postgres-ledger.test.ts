import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { serializeProof, verifyProof } from '../../log/proof.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const KEK = randomBytes(32).toString('hex');
const NOW = Date.parse('2026-01-11T00:00:00.000Z');
const day = (i: number) => `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`;
const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

/** Each schema's keys and anchor, in a temporary directory of its own: a ledger opened again on a schema signs with the same key. */
const dirs = new Map<string, string>();

/** A ledger on its own PostgreSQL schema; keys, anchor and signing key in a temporary directory. */
function open(settings: { capture?: Record<string, unknown>; retention?: Record<string, unknown> } = {}, schema = schemas.next()): Promise<Ledger> {
  if (!dirs.has(schema)) dirs.set(schema, tempDir());
  const config = configSchema(dirs.get(schema)!).parse({
    store: { type: 'postgres', url: TEST_DATABASE_URL, schema },
    log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 0, anchor: { path: 'anchor' } },
    digest: { key_file: 'digest.key' },
    capture: settings.capture ?? { prompts: 'encrypted', responses: 'encrypted' },
    ...(settings.retention ? { retention: settings.retention } : {}),
  });
  return openLedger(config, { env: { LLM_LEDGER_KEK: KEK }, onWarning: () => undefined });
}

const reveal = (ledger: Ledger, id: string) => ledger.reveal(id, { actor: 'auditor', reason: 'postgres test' });

describe('a ledger on PostgreSQL keeps content beside the log', () => {
  it('stores encrypted content that reveals, and no prompt text in the database', async () => {
    const schema = schemas.next();
    const ledger = await open({}, schema);
    const { id } = await ledger.record(sampleCall(1, { content: { input: 'planted-prompt-51ac', output: 'planted-answer-0e9d' } }));
    expect((await reveal(ledger, id)).content).toMatchObject({ input: 'planted-prompt-51ac', output: 'planted-answer-0e9d' });
    await ledger.close();
    const dump = await withClient(async (client) => {
      const tables = ['records', 'leaves', 'content', 'data_keys'];
      // One query at a time: a pg client does not take overlapping queries.
      const parts = [];
      for (const t of tables) parts.push(await client.query(`SELECT * FROM "${schema}".${t}`));
      // Every value as stored, bytes included (bytea comes back as Buffers).
      const values = parts.flatMap((p) => p.rows.flatMap((row: Record<string, unknown>) => Object.values(row)));
      return values.map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : JSON.stringify(v))).join('\n');
    });
    expect(dump).toContain('encrypted');
    expect(dump).not.toContain('planted-prompt-51ac');
    expect(dump).not.toContain('planted-answer-0e9d');
  });

  it('stores plaintext content with the opt-in', async () => {
    const ledger = await open({ capture: { prompts: 'plaintext', responses: 'hash', allow_plaintext: true } });
    const { id } = await ledger.record(sampleCall(2));
    expect((await reveal(ledger, id)).content).toEqual({ input: 'question 2', system: 'be brief' });
    await ledger.close();
  });

  it('erases one subject: its keys are destroyed and its content deleted, others keep theirs, every proof verifies', async () => {
    const ledger = await open();
    const alice = await ledger.record(sampleCall(0, { user: 'alice' }));
    const bob = await ledger.record(sampleCall(1, { user: 'bob' }));
    const proof = serializeProof(await ledger.prove(alice.id));
    const erased = await ledger.erase({ user: 'alice' });
    expect(erased).toMatchObject({ subject: 'user:alice', keysDestroyed: 1, contentDeleted: 1 });
    expect((await reveal(ledger, alice.id)).content).toEqual({});
    expect((await reveal(ledger, bob.id)).content.output).toBe('answer 1');
    expect(verifyProof(proof, { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    expect((await ledger.verify()).ok).toBe(true);
    await ledger.close();
  });
});

describe('retention on a PostgreSQL ledger', () => {
  /** Ten calls, one a day from 2026-01-01 00:00 UTC. */
  async function tenDays(ledger: Ledger): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await ledger.record(sampleCall(i, { timestamp: day(i) }))).id);
    return ids;
  }

  it('deletes content strictly older than its period, keeping the record at the boundary', async () => {
    const ledger = await open({ retention: { content_days: 8, envelope_days: 'forever' } });
    const ids = await tenDays(ledger);
    const report = await ledger.cleanup(NOW);
    expect(report.content).toEqual({ cutoff: day(2), deleted: 2 });
    expect((await reveal(ledger, ids[1]!)).content).toEqual({});
    expect((await reveal(ledger, ids[2]!)).content.output).toBe('answer 2');
    expect((await ledger.verify()).ok).toBe(true);
    await ledger.close();
  });

  it('prunes the oldest envelopes as a prefix, dropping their day partitions, and every proof still verifies', async () => {
    const schema = schemas.next();
    const ledger = await open({ retention: { content_days: 6, envelope_days: 6 } }, schema);
    const ids = await tenDays(ledger);
    const proofBefore = serializeProof(await ledger.prove(ids[7]!));
    const report = await ledger.cleanup(NOW);
    expect(report.envelopes).toEqual({ cutoff: day(4), from: 0, below: 4, count: 4 });
    expect(await ledger.get(ids[3]!)).toBeUndefined();
    expect(await ledger.get(ids[4]!)).toBeDefined();
    const verified = await ledger.verify();
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(verifyProof(proofBefore, { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    expect(verifyProof(serializeProof(await ledger.prove(ids[7]!)), { trustedVerifierKey: ledger.verifierKey }).ok).toBe(true);
    expect((await ledger.cleanup(NOW)).envelopes).toBeUndefined();
    await ledger.close();
    const dropped = await withClient(async (client) =>
      (await client.query<{ name: string }>(`SELECT name FROM "${schema}".dropped_partitions ORDER BY name`)).rows.map((r) => r.name),
    );
    expect(dropped).toEqual(['records_20260101', 'records_20260102', 'records_20260103', 'records_20260104']);
  });

  it('catches a deletion made without a retention record, even with the horizon raised', async () => {
    const schema = schemas.next();
    const ledger = await open({ retention: { content_days: 6, envelope_days: 6 } }, schema);
    await tenDays(ledger);
    await ledger.cleanup(NOW);
    await ledger.close();
    await withClient((client) =>
      client.query(`SET ROLE "${schema}_retention"; INSERT INTO "${schema}".pruned (below) VALUES (7); DELETE FROM "${schema}".records WHERE idx = 6`),
    );
    const reader = await open({ retention: { content_days: 6, envelope_days: 6 } }, schema);
    const report = await reader.verify();
    await reader.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(6);
  });
});

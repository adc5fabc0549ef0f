import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realisticCall } from '../../record/test-support/realistic-calls.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';
import { timeOf } from './postgres-partitions.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

const CALLS = [0, 1, 2, 3].map((i) => ({ timestamp: `2026-02-0${i + 1}T10:00:00.000Z`, model: 'gpt-4o', user: `u${i}` }));

describe('PostgresStore beyond the shared contract', () => {
  let store: PostgresStore;
  let sequencer: Sequencer;
  beforeEach(() => {
    store = openPostgresStore({ url: TEST_DATABASE_URL, schema: schemas.next() });
    sequencer = new Sequencer(generateSignerKey('test.example/log'), 'test.example/log');
  });
  afterEach(() => store.close());

  // Replays, the signed head, checkpoints and a stranger's refused batch: the shared suite (stores.test.ts).
  it('refuses a record stored twice outside a replay, rather than skipping it', async () => {
    const entries = entriesFor(CALLS);
    expect((await store.append(entries.slice(0, 3), { sequencer })).indexes).toEqual([0, 1, 2]);
    await expect(store.append(entries.slice(0, 1), { sequencer })).rejects.toThrow(/cannot append in .*duplicate key/);
    expect(await store.size()).toBe(3);
  });

  it('keeps content in the batch statement: a batch that fails stores none of it', async () => {
    const [first, second] = entriesFor(CALLS.slice(0, 2));
    const item = { mode: 'plaintext' as const, subject: 'user:u0', data: Buffer.from('{"input":"x"}') };
    // The second record has the first one's id, which is unique: the whole statement fails, content included.
    await expect(
      store.append(
        [
          { ...first!, content: { ts: CALLS[0]!.timestamp, items: [item] } },
          { ...second!, id: first!.id },
        ],
        { sequencer },
      ),
    ).rejects.toThrow(/cannot append/);
    expect(await store.content.get(0)).toEqual([]);
    expect(await store.head()).toBeUndefined();
    await store.append([{ ...first!, content: { ts: CALLS[0]!.timestamp, items: [item] } }], { sequencer });
    expect((await store.content.get(0)).map((c) => [c.mode, c.subject, Buffer.from(c.data).toString(), c.ts])).toEqual([
      ['plaintext', 'user:u0', '{"input":"x"}', CALLS[0]!.timestamp],
    ]);
  });
});

describe('PostgreSQL records on disk', () => {
  afterAll(() => schemas.dropAll());

  it('keeps a realistic record whole in its row, compressed, with nothing moved out to the TOAST table', async () => {
    const schema = schemas.next();
    const store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const entries = entriesFor(Array.from({ length: 20 }, (_, i) => ({ ...realisticCall(i), timestamp: '2026-02-01T10:00:00.000Z' })));
      await store.append(entries, { sequencer: new Sequencer(generateSignerKey('test.example/log'), 'test.example/log') });
      await withClient(async (client) => {
        const { rows } = await client.query<{ toast: string; compressed: string }>(
          `SELECT c.reltoastrelid::regclass::text AS toast, (SELECT count(*) FROM "${schema}".records WHERE pg_column_compression(canonical) = 'lz4') AS compressed
           FROM pg_class c WHERE c.oid = '"${schema}".records_20260201'::regclass`,
        );
        expect(rows[0]!.compressed).toBe('20');
        expect((await client.query(`SELECT count(*) AS n FROM ${rows[0]!.toast}`)).rows).toEqual([{ n: '0' }]);
      });
    } finally {
      await store.close();
    }
  });
});

describe('timeOf', () => {
  it("finds the envelope's own ts, not one inside its metadata", () => {
    const [entry] = entriesFor([
      { timestamp: '2026-04-05T06:07:08.009Z', metadata: { ts: '1999-01-01T00:00:00.000Z', nested: { ts: 'x' } }, user: 'has "ts":"quoted" inside' },
    ]);
    expect(timeOf(entry!.canonical)).toBe('2026-04-05T06:07:08.009Z');
  });
});

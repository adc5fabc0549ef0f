import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../log/checkpoint.js';
import { rootOf } from '../../log/merkle.js';
import type { RecordInput } from '../../record/types.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import { entriesFor, testWriter } from '../test-support/conformance.js';

/** Long enough that appends sent 100 ms after it are still queued when it commits (about a second here). */
const LONG = 40_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const calls = (count: number): RecordInput[] =>
  Array.from({ length: count }, (_, i) => ({ model: 'gpt-4o', user: `user-${i % 7}`, status: 'success', inputTokens: i }));

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('the SQLite writer thread', () => {
  it('commits appends that queued up behind a long one together, each where the log ends, under one signed head', async () => {
    store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'llm-ledger-writer-')), 'ledger.db'));
    const writer = testWriter();
    const long = writer.append(store, entriesFor(calls(LONG)));
    await sleep(100);
    const queued = [0, 1, 2].map(() => entriesFor(calls(10)));
    const [, ...answers] = await Promise.all([long, ...queued.map((batch) => writer.append(store, batch, { checkpoint: true }))]);
    expect(answers.map((a) => a.indexes)).toEqual(queued.map((_, n) => Array.from({ length: 10 }, (_, i) => LONG + n * 10 + i)));
    expect(await store.size()).toBe(LONG + 30);
    expect((await store.getById(queued[2]!.at(-1)!.id))?.index).toBe(LONG + 29);
    // One head signed over the whole transaction, kept once as the checkpoint all three asked for.
    expect(await store.checkpoints()).toEqual([{ size: LONG + 30, note: expect.any(String) }]);
    for (const a of answers) expect(a).toMatchObject({ head: (await store.checkpoints())[0], checkpoint: (await store.checkpoints())[0] });
    const leaves = await store.leafHashes(0, LONG + 30);
    expect(openCheckpoint(answers[0]!.head.note, writer.sequencer.verifierKey, writer.sequencer.origin).root).toEqual(rootOf(leaves));
    expect(await store.head()).toEqual(answers[2]!.head);
  });

  it('fails every append of a shared transaction when one of them cannot be stored, and stores none of them', async () => {
    store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'llm-ledger-writer-')), 'ledger.db'));
    const writer = testWriter();
    const first = entriesFor(calls(LONG));
    const long = writer.append(store, first);
    await sleep(100);
    // Sent while the long append commits, so they share the next transaction; the third holds a record
    // already stored (sent again, not as a replay), which the records' unique id refuses.
    const queued = Promise.allSettled([
      writer.append(store, entriesFor(calls(10))),
      writer.append(store, entriesFor(calls(10))),
      writer.append(store, first.slice(0, 1)),
    ]);
    const { head } = await long;
    const results = await queued;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason.message).toMatch(/UNIQUE constraint failed: records\.id/);
    expect(await store.size()).toBe(LONG);
    expect(await store.head()).toEqual(head);
    // The log goes on from where it was: the writer takes up the stored head, not the one it signed in the rolled-back transaction.
    const next = await writer.append(store, entriesFor(calls(5)));
    expect(next.indexes).toEqual([LONG, LONG + 1, LONG + 2, LONG + 3, LONG + 4]);
    expect(await store.size()).toBe(LONG + 5);
    expect(openCheckpoint(next.head.note, writer.sequencer.verifierKey, writer.sequencer.origin).root).toEqual(rootOf(await store.leafHashes(0, LONG + 5)));
  });
});

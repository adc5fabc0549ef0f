import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordInput } from '../record/types.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import { entriesFor } from './test-support/conformance.js';

/** Long enough that appends sent 100 ms after it are still queued when it commits (about a second here). */
const LONG = 40_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const calls = (count: number): RecordInput[] => Array.from({ length: count }, (_, i) => ({ model: 'gpt-4o', user: `user-${i % 7}`, status: 'success', inputTokens: i }));

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('the SQLite writer thread', () => {
  it('commits appends that queued up behind a long one together, each at its place, with their checkpoints', async () => {
    store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'llm-ledger-writer-')), 'ledger.db'));
    const long = store.append(entriesFor(calls(LONG)));
    await sleep(100);
    const queued = [0, 1, 2].map((n) => entriesFor(calls(10), LONG + n * 10));
    await Promise.all([long, ...queued.map((batch, n) => store.append(batch, { size: LONG + (n + 1) * 10, note: `checkpoint ${n}` }))]);
    expect(await store.size()).toBe(LONG + 30);
    expect((await store.getById(queued[2]!.at(-1)!.id))?.index).toBe(LONG + 29);
    expect((await store.checkpoints()).map((c) => c.size)).toEqual([LONG + 10, LONG + 20, LONG + 30]);
  });

  it('fails every append of a shared transaction when one of them cannot be stored, and stores none of them', async () => {
    store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'llm-ledger-writer-')), 'ledger.db'));
    const long = store.append(entriesFor(calls(LONG)));
    await sleep(100);
    // Sent while the long append commits, so they share the next transaction; the third does not follow on.
    const queued = Promise.allSettled([store.append(entriesFor(calls(10), LONG)), store.append(entriesFor(calls(10), LONG + 10)), store.append(entriesFor(calls(10), 99_999))]);
    await long;
    const results = await queued;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(new RegExp(`a batch starting at index 99999 cannot follow a log of size ${LONG + 20}`));
    expect(await store.size()).toBe(LONG);
    // The log goes on from where it was.
    await store.append(entriesFor(calls(5), LONG));
    expect(await store.size()).toBe(LONG + 5);
  });
});

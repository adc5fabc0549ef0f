import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { expect, it } from 'vitest';
import { SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { openSqliteStore } from './sqlite-store.js';
import { entriesFor } from '../test-support/conformance.js';

it('brings a version 1 file up to date: numeric columns added in place, rows untouched', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'llm-ledger-upgrade-')), 'ledger.db');
  // Version 1 was this schema without the numeric columns.
  const v1 = SQLITE_SCHEMA.replace(/,\n {2}\w+ REAL GENERATED ALWAYS AS \([^)]*\) VIRTUAL/g, '').replace(/user_version = \d+/, 'user_version = 1');
  expect(v1).not.toMatch(/input_tokens/);
  const [entry] = entriesFor([{ model: 'gpt-4o', inputTokens: 12, latencyMs: 340, status: 'error' }]);
  const db = new DatabaseSync(file);
  db.exec(v1);
  db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)').run(0, entry!.id, entry!.canonical);
  db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)').run(0, entry!.leafHash);
  db.close();

  const store = openSqliteStore(file);
  try {
    const batches = [];
    for await (const batch of store.statsColumns({}, { batchSize: 10, groupBy: 'model' })) batches.push(batch);
    expect(batches[0]).toMatchObject({ length: 1, group: ['gpt-4o'] });
    expect([...batches[0]!.inputTokens, ...batches[0]!.latencyMs]).toEqual([12, 340]);
    expect((await store.getById(entry!.id))?.envelope.model).toBe('gpt-4o');
  } finally {
    await store.close();
  }
  const reopened = new DatabaseSync(file);
  expect(reopened.prepare('PRAGMA user_version').get()).toEqual({ user_version: SQLITE_SCHEMA_VERSION });
  // The narrow copy that stats read was added and filled from the rows already there.
  expect(reopened.prepare('SELECT idx, model, input_tokens, status FROM call_stats').all()).toEqual([
    { idx: 0, model: 'gpt-4o', input_tokens: 12, status: 'error' },
  ]);
  expect((reopened.prepare('SELECT envelope FROM records').get() as { envelope: string }).envelope).toBe(entry!.canonical);
  reopened.close();
});

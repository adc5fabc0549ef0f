import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlStore } from './jsonl/jsonl-store.js';
import { MemoryStore } from './memory/memory-store.js';
import { afterAll } from 'vitest';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { storeConformance } from './test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas } from './test-support/postgres.js';
import { jsonlTamper, memoryTamper, postgresTamper, sqliteTamper } from './test-support/store-tamper.js';

// Each harness declares what its driver keeps beyond the log (content, pruning): the suite holds a
// driver declared without one to the refusal the Store interface documents.

storeConformance('memory', { open: async () => new MemoryStore(), content: true, pruning: true, tamper: memoryTamper });

// SQLite and PostgreSQL take writers in many processes; here, two connections of one.

let sqliteFile = '';
storeConformance('sqlite', {
  open: async () => openSqliteStore((sqliteFile = join(mkdtempSync(join(tmpdir(), 'llm-ledger-')), 'ledger.db'))),
  reopen: async () => openSqliteStore(sqliteFile),
  sharedWriters: true,
  content: true,
  pruning: true,
  tamper: sqliteTamper(() => sqliteFile),
});

// JSON Lines files keep no content (erasure could not delete it) and cannot lose a prefix (no pruning).
let jsonlDir = '';
storeConformance('jsonl', {
  open: async () => JsonlStore.open((jsonlDir = mkdtempSync(join(tmpdir(), 'llm-ledger-jsonl-'))), 1 << 20),
  reopen: async () => JsonlStore.open(jsonlDir, 1 << 20),
  content: false,
  pruning: false,
  tamper: jsonlTamper(() => jsonlDir),
});

// The same driver, with verification's scan spread over worker threads from the first row.
let parallelFile = '';
storeConformance('sqlite (parallel scan)', {
  open: async () => openSqliteStore((parallelFile = join(mkdtempSync(join(tmpdir(), 'llm-ledger-')), 'ledger.db')), { parallelScanFrom: 0 }),
  reopen: async () => openSqliteStore(parallelFile, { parallelScanFrom: 0 }),
  sharedWriters: true,
  content: true,
  pruning: true,
  tamper: sqliteTamper(() => parallelFile),
});

// The same driver, with stats of calls packed into blocks of 3 calls (of 4,096 by default).
let blocksFile = '';
storeConformance('sqlite (stats blocks)', {
  open: async () => openSqliteStore((blocksFile = join(mkdtempSync(join(tmpdir(), 'llm-ledger-')), 'ledger.db')), { statsBlockCalls: 3 }),
  reopen: async () => openSqliteStore(blocksFile, { statsBlockCalls: 3 }),
  sharedWriters: true,
  content: true,
  pruning: true,
  tamper: sqliteTamper(() => blocksFile),
});

// PostgreSQL on 127.0.0.1:5432: every test gets a schema (and roles) of its own, dropped at the end.
// Retention drops the day partitions wholly below the horizon at once, beyond prune's limit.
const pgSchemas = new TestSchemas();
let pgSchema = '';
storeConformance('postgres', {
  open: async () => openPostgresStore({ url: TEST_DATABASE_URL, schema: (pgSchema = pgSchemas.next()) }),
  reopen: async () => openPostgresStore({ url: TEST_DATABASE_URL, schema: pgSchema }),
  sharedWriters: true,
  content: true,
  pruning: 'whole days',
  tamper: postgresTamper(() => pgSchema),
});
afterAll(() => pgSchemas.dropAll());

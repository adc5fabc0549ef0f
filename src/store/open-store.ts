import type { LedgerConfig } from '../config/schema.js';
import { JsonlStore } from './jsonl/jsonl-store.js';
import { MemoryStore } from './memory/memory-store.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { createPrivateFile, makePrivateDirectory } from './private-file.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { StoreError, type Store } from './store.js';

/** The one place a store type named in configuration becomes a driver. */
export function openStore(config: LedgerConfig['store']): Store {
  switch (config.type) {
    case 'memory':
      return new MemoryStore();
    case 'jsonl':
      // Files and directories the ledger creates are private to their owner (see private-file.ts).
      privately(config.path, () => makePrivateDirectory(config.path));
      return JsonlStore.open(config.path, config.maxFileBytes);
    case 'sqlite':
      // Created 0600 before node:sqlite opens it, which would otherwise create it with the umask's 0644.
      if (config.path !== ':memory:') privately(config.path, () => createPrivateFile(config.path));
      return openSqliteStore(config.path);
    case 'postgres':
      // The schema refuses a postgres store without a url; this keeps a hand-built config honest too.
      if (config.url === undefined) throw new StoreError('store.url is required with store.type: postgres');
      return openPostgresStore({ url: config.url, schema: config.schema, appendTimeoutMs: config.appendTimeoutMs, readTimeoutMs: config.readTimeoutMs });
  }
}

function privately(path: string, create: () => void): void {
  try {
    create();
  } catch (err) {
    throw new StoreError(`cannot create the ledger at ${path}: ${(err as Error).message}`, { cause: err });
  }
}

import type { LedgerConfig } from '../config/schema.js';
import { JsonlStore } from './jsonl-store.js';
import { MemoryStore } from './memory-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** The one place a store type named in configuration becomes a driver. */
export function openStore(config: LedgerConfig['store']): Store {
  switch (config.type) {
    case 'memory':
      return new MemoryStore();
    case 'jsonl':
      return JsonlStore.open(config.path, config.maxFileBytes);
    case 'sqlite':
      return openSqliteStore(config.path);
  }
}

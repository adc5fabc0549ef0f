import type { DataKeyStore, SubjectKeys, WrappedDataKey } from './data-key-store.js';

interface SubjectRow {
  keys: Map<number, WrappedDataKey>;
  erasedThrough: number;
}

/** A DataKeyStore in memory, for tests and ephemeral ledgers. Hands out copies, never its own buffers. */
export class MemoryDataKeyStore implements DataKeyStore {
  private readonly rows = new Map<string, SubjectRow>();

  async get(subject: string): Promise<SubjectKeys> {
    const row = this.rows.get(subject);
    return { keys: row ? [...row.keys.values()].map(copy) : [], erasedThrough: row?.erasedThrough ?? 0 };
  }

  async add(key: WrappedDataKey): Promise<boolean> {
    const row = this.row(key.subject);
    if (row.keys.has(key.version) || key.version <= row.erasedThrough) return false;
    row.keys.set(key.version, copy(key));
    return true;
  }

  async replace(key: WrappedDataKey): Promise<boolean> {
    const row = this.rows.get(key.subject);
    const old = row?.keys.get(key.version);
    if (!row || !old) return false;
    old.wrapped.fill(0);
    row.keys.set(key.version, copy(key));
    return true;
  }

  async destroy(subject: string): Promise<number> {
    const row = this.rows.get(subject);
    if (!row) return 0;
    const destroyed = row.keys.size;
    for (const key of row.keys.values()) {
      row.erasedThrough = Math.max(row.erasedThrough, key.version);
      // Overwritten, not just dropped: the wrapped key must not linger until garbage collection.
      key.wrapped.fill(0);
    }
    row.keys.clear();
    return destroyed;
  }

  async subjects(): Promise<string[]> {
    return [...this.rows].filter(([, row]) => row.keys.size > 0).map(([subject]) => subject);
  }

  private row(subject: string): SubjectRow {
    let row = this.rows.get(subject);
    if (!row) this.rows.set(subject, (row = { keys: new Map(), erasedThrough: 0 }));
    return row;
  }
}

function copy(key: WrappedDataKey): WrappedDataKey {
  return { ...key, wrapped: Buffer.from(key.wrapped) };
}

import type { DatabaseSync } from 'node:sqlite';
import type { DataKeyStore, SubjectKeys, WrappedDataKey } from '../../crypto/data-key-store.js';
import type { ContentSelector, ContentStore, StoredContent } from '../content.js';
import type { SqliteWriterThread } from './sqlite-writer.js';

interface ContentRow {
  idx: number;
  record_id: string;
  mode: StoredContent['mode'];
  subject: string;
  ts: string;
  data: Uint8Array;
}

/** Content and data keys of a SQLite ledger: read on the caller's connection, written by the writer thread. */
export class SqliteContentStore implements ContentStore {
  readonly dataKeys: DataKeyStore;

  constructor(
    private readonly db: DatabaseSync,
    private readonly writer: SqliteWriterThread,
  ) {
    this.dataKeys = new SqliteDataKeyStore(db, writer);
  }

  async get(index: number): Promise<StoredContent[]> {
    const rows = this.db.prepare('SELECT idx, record_id, mode, subject, ts, data FROM content WHERE idx = ?').all(index) as unknown as ContentRow[];
    return rows.map((r) => ({ index: r.idx, recordId: r.record_id, mode: r.mode, subject: r.subject, ts: r.ts, data: r.data }));
  }

  delete(selector: ContentSelector, limit: number): Promise<number> {
    return this.writer.request<number>({ op: 'deleteContent', ...selector, limit });
  }
}

class SqliteDataKeyStore implements DataKeyStore {
  constructor(
    private readonly db: DatabaseSync,
    private readonly writer: SqliteWriterThread,
  ) {}

  async get(subject: string): Promise<SubjectKeys> {
    const rows = this.db.prepare('SELECT version, kek_id, wrapped FROM data_keys WHERE subject = ? ORDER BY version').all(subject) as {
      version: number;
      kek_id: string;
      wrapped: Uint8Array;
    }[];
    const erased = this.db.prepare('SELECT erased_through AS v FROM erased_subjects WHERE subject = ?').get(subject) as { v: number } | undefined;
    return {
      keys: rows.map((r) => ({ subject, version: r.version, kekId: r.kek_id, wrapped: Buffer.from(r.wrapped) })),
      erasedThrough: erased?.v ?? 0,
    };
  }

  add(key: WrappedDataKey): Promise<boolean> {
    return this.writer.request<boolean>({ op: 'addKey', ...key });
  }

  replace(key: WrappedDataKey): Promise<boolean> {
    return this.writer.request<boolean>({ op: 'replaceKey', ...key });
  }

  destroy(subject: string): Promise<number> {
    return this.writer.request<number>({ op: 'destroyKeys', subject });
  }

  async subjects(): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT subject FROM data_keys ORDER BY subject').all() as { subject: string }[]).map((r) => r.subject);
  }
}

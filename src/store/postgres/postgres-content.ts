import type { DataKeyStore, SubjectKeys, WrappedDataKey } from '../../crypto/data-key-store.js';
import type { ContentSelector, ContentStore, StoredContent } from '../content.js';
import { inTransaction, type PostgresSession } from './postgres-connection.js';
import { StoreError } from '../store.js';

interface ContentRow {
  idx: number;
  record_id: string;
  mode: StoredContent['mode'];
  subject: string;
  ts: string;
  data: Buffer;
}

/**
 * Content and data keys of a PostgreSQL ledger. Content arrives with `Store.append`, in the
 * records' own statement. Retention's deletions run as the retention role; erasure's as the writer.
 * (Unlike SQLite's secure_delete, PostgreSQL leaves deleted bytes until VACUUM reclaims the space:
 * destroying the data key is what makes erased content unreadable.)
 */
export class PostgresContentStore implements ContentStore {
  readonly dataKeys: DataKeyStore;

  constructor(private readonly db: PostgresSession) {
    this.dataKeys = new PostgresDataKeyStore(db);
  }

  get(index: number): Promise<StoredContent[]> {
    return guarded(this.db, 'read content', async () => {
      const { rows } = await this.db.pool.query<ContentRow>(
        `SELECT idx, record_id, mode, subject, ts, data FROM ${this.db.s}.content WHERE idx = $1 ORDER BY mode`,
        [index],
      );
      return rows.map((r) => ({ index: r.idx, recordId: r.record_id, mode: r.mode, subject: r.subject, ts: r.ts, data: r.data }));
    });
  }

  delete(selector: ContentSelector, limit: number): Promise<number> {
    const s = this.db.s;
    return guarded(this.db, 'delete content', async () => {
      if ('subject' in selector) {
        const sql = `DELETE FROM ${s}.content WHERE (idx, mode) IN (SELECT idx, mode FROM ${s}.content WHERE subject = $1 ORDER BY idx LIMIT $2)`;
        return (await this.db.pool.query(sql, [selector.subject, limit])).rowCount ?? 0;
      }
      const sql = `DELETE FROM ${s}.content WHERE (idx, mode) IN (SELECT idx, mode FROM ${s}.content WHERE ts < $1 ORDER BY ts LIMIT $2)`;
      return inTransaction(this.db.pool, this.db.roles.retention, async (client) => (await client.query(sql, [selector.before, limit])).rowCount ?? 0);
    });
  }
}

/** Adds and destroys of one subject's keys are serialised by an advisory lock on the subject, so an erasure cannot miss a key added meanwhile. */
class PostgresDataKeyStore implements DataKeyStore {
  constructor(private readonly db: PostgresSession) {}

  get(subject: string): Promise<SubjectKeys> {
    const s = this.db.s;
    return guarded(this.db, 'read data keys', async () => {
      const keys = await this.db.pool.query<{ version: number; kek_id: string; wrapped: Buffer }>(
        `SELECT version, kek_id, wrapped FROM ${s}.data_keys WHERE subject = $1 ORDER BY version`,
        [subject],
      );
      const erased = await this.db.pool.query<{ v: number }>(`SELECT erased_through AS v FROM ${s}.erased_subjects WHERE subject = $1`, [subject]);
      return {
        keys: keys.rows.map((r) => ({ subject, version: r.version, kekId: r.kek_id, wrapped: Buffer.from(r.wrapped) })),
        erasedThrough: erased.rows[0]?.v ?? 0,
      };
    });
  }

  add(key: WrappedDataKey): Promise<boolean> {
    const s = this.db.s;
    return this.locked(key.subject, 'add a data key', async (client) => {
      const sql = `INSERT INTO ${s}.data_keys (subject, version, kek_id, wrapped)
        SELECT $1, $2, $3, $4 WHERE $2 > coalesce((SELECT erased_through FROM ${s}.erased_subjects WHERE subject = $1), 0)
        ON CONFLICT DO NOTHING`;
      return (await client.query(sql, [key.subject, key.version, key.kekId, key.wrapped])).rowCount === 1;
    });
  }

  replace(key: WrappedDataKey): Promise<boolean> {
    return guarded(this.db, 'rewrap a data key', async () => {
      const sql = `UPDATE ${this.db.s}.data_keys SET kek_id = $1, wrapped = $2 WHERE subject = $3 AND version = $4`;
      return (await this.db.pool.query(sql, [key.kekId, key.wrapped, key.subject, key.version])).rowCount === 1;
    });
  }

  destroy(subject: string): Promise<number> {
    const s = this.db.s;
    return this.locked(subject, 'destroy data keys', async (client) => {
      const { rows } = await client.query<{ n: number; v: number | null }>(
        `SELECT count(*)::int AS n, max(version) AS v FROM ${s}.data_keys WHERE subject = $1`,
        [subject],
      );
      const { n, v } = rows[0]!;
      if (v !== null) {
        await client.query(
          `INSERT INTO ${s}.erased_subjects (subject, erased_through) VALUES ($1, $2)
           ON CONFLICT (subject) DO UPDATE SET erased_through = greatest(${s}.erased_subjects.erased_through, excluded.erased_through)`,
          [subject, v],
        );
      }
      await client.query(`DELETE FROM ${s}.data_keys WHERE subject = $1`, [subject]);
      return n;
    });
  }

  subjects(): Promise<string[]> {
    return guarded(this.db, 'list data key subjects', async () => {
      const { rows } = await this.db.pool.query<{ subject: string }>(`SELECT DISTINCT subject FROM ${this.db.s}.data_keys ORDER BY subject`);
      return rows.map((r) => r.subject);
    });
  }

  private locked<T>(subject: string, what: string, work: (client: import('pg').PoolClient) => Promise<T>): Promise<T> {
    return guarded(this.db, what, () =>
      inTransaction(this.db.pool, undefined, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`llm-ledger:data-key:${this.db.s}:${subject}`]);
        return work(client);
      }),
    );
  }
}

/** Waits for the store to be ready, and turns a database failure into a StoreError that says what failed where. */
export async function guarded<T>(db: PostgresSession, what: string, work: () => Promise<T>): Promise<T> {
  await db.ready();
  try {
    return await work();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot ${what} in ${db.location}: ${(err as Error).message}`, { cause: err });
  }
}

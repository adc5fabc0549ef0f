import type pg from 'pg';
import type { StoredSeal } from '../../log/batch-seal.js';

/**
 * Seals stored from index `from` on (below `to`), in index order. Written by versions before
 * signed heads (schema 6); read only, so that `verify` still holds the records they vouch for.
 */
export async function readSeals(db: pg.ClientBase | pg.Pool, s: string, from: number, to = Number.MAX_SAFE_INTEGER): Promise<StoredSeal[]> {
  const { rows } = await db.query<{ first: string; note: string }>(
    `SELECT first_idx AS first, note FROM ${s}.batch_seals WHERE first_idx >= $1 AND first_idx < $2 ORDER BY first_idx`,
    [from, to],
  );
  return rows.map((r) => ({ first: Number(r.first), note: r.note }));
}

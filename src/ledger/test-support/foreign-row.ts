import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { canonicalJson } from '../../record/canonical.js';

/**
 * As someone with write access to a SQLite ledger file could: a copy of the newest record under a
 * new id, inserted after it with its leaf, the leaf hash correct (INSERT is allowed, no trigger
 * needs dropping). Returns its index.
 */
export function insertForeignRow(file: string, id = '019b0000-0000-7000-8000-00000000f0f0'): number {
  const db = new DatabaseSync(file);
  try {
    const { last, envelope } = db.prepare('SELECT idx AS last, envelope FROM records ORDER BY idx DESC LIMIT 1').get() as { last: number; envelope: string };
    const forged = canonicalJson({ ...(JSON.parse(envelope) as object), id });
    const leaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(forged, 'utf8')]))
      .digest();
    db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)').run(last + 1, id, forged);
    db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)').run(last + 1, leaf);
    return last + 1;
  } finally {
    db.close();
  }
}

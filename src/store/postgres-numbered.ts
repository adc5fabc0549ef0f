import type pg from 'pg';
import { timeOf } from './postgres-partitions.js';
import { StoreError, type AppendEntry } from './store.js';

/** A record on its way into a log that many processes append to: the database gives it its index. */
export type UnnumberedEntry = Omit<AppendEntry, 'index'>;

/** The content items of a batch as parallel arrays; `at` is each item's record, as `key` maps it. */
export function contentColumns<E extends UnnumberedEntry>(entries: readonly E[], key: (entry: E, position: number) => number | string) {
  const columns = { at: [] as (number | string)[], mode: [] as string[], recordId: [] as string[], subject: [] as string[], ts: [] as string[], data: [] as Buffer[] };
  entries.forEach((e, position) => {
    for (const item of e.content?.items ?? []) {
      columns.at.push(key(e, position));
      columns.mode.push(item.mode);
      columns.recordId.push(e.id);
      columns.subject.push(item.subject);
      columns.ts.push(e.content!.ts);
      columns.data.push(Buffer.from(item.data.buffer, item.data.byteOffset, item.data.byteLength));
    }
  });
  return columns;
}

/**
 * The canonical texts of a batch as one parameter, a line each, for `string_to_table`. As a text[]
 * every quote of the JSON is escaped by node-postgres and unescaped by PostgreSQL: 80-200 ms for
 * 2,048 records here, against 30-40 ms as lines. Canonical JSON (RFC 8785) never holds a raw line
 * break, which the check below makes sure of.
 */
export function canonicalLines(entries: readonly Pick<AppendEntry, 'canonical'>[]): string {
  for (const e of entries) if (e.canonical.includes('\n')) throw new StoreError('a canonical envelope holds a raw line break, which canonical JSON never does');
  return entries.map((e) => e.canonical).join('\n');
}

/** Signs a batch stored at `first`: the seal committed with it (see src/log/batch-seal.ts). */
export type BatchSealer = (first: number, leaves: readonly Buffer[]) => string;

/**
 * Numbers and stores one batch with its signed seal, in one transaction. The writer first moves the
 * log head forward by the batch's size (the head's row lock orders the batches of all processes
 * and is held until the commit), learns the first index, signs the seal over those indexes and
 * leaves, and inserts records, leaves, content and seal in one statement. A replayed batch
 * (`skipStored`: from the spool, whose first commit may have gone through with its answer lost)
 * first leaves out the records already stored, each looked up by id through its index. The head's
 * lock is held for one client round trip and a signature (about 50 us) more than a single statement
 * would hold it: against the insert of the batch itself, a few per cent.
 * Returns each entry's index, -1 for a replayed record that was already stored.
 */
export async function insertNumbered(
  client: pg.ClientBase,
  s: string,
  entries: readonly UnnumberedEntry[],
  seal: BatchSealer,
  insert: (query: pg.QueryConfig, batch: readonly UnnumberedEntry[]) => Promise<unknown>,
  skipStored = false,
): Promise<number[]> {
  const indexes = new Array<number>(entries.length).fill(-1);
  let positions = entries.map((_, i) => i);
  if (skipStored) {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM ${s}.leaves WHERE id = ANY($1::text[])`, [entries.map((e) => e.id)]);
    const stored = new Set(rows.map((r) => r.id));
    positions = positions.filter((i) => !stored.has(entries[i]!.id));
  }
  if (positions.length === 0) return indexes;
  const batch = positions.map((i) => entries[i]!);
  const { rows } = await client.query<{ first: string }>(`UPDATE ${s}.log_head SET size = size + $1::bigint RETURNING size - $1::bigint AS first`, [batch.length]);
  const first = Number(rows[0]!.first);
  await insert(sealedInsertQuery(s, batch, first, seal(first, batch.map((e) => e.leafHash))), batch);
  positions.forEach((position, i) => (indexes[position] = first + i));
  return indexes;
}

/** Records, leaves, content and the batch's seal at the indexes from `first`, in one statement. */
function sealedInsertQuery(s: string, entries: readonly UnnumberedEntry[], first: number, sealNote: string): pg.QueryConfig {
  const content = contentColumns(entries, (_e, position) => first + position);
  return {
    name: `llm-ledger-append-sealed-${s}`,
    // The texts go straight from the parameter into the insert: carried through a CTE, which is
    // materialised, they would be copied twice and spill past work_mem to temporary files.
    text: `WITH input AS (
        SELECT $1::bigint + u.ord - 1 AS idx, u.id, u.ts, u.hash, u.ord FROM unnest($2::text[], $3::timestamptz[], $5::bytea[]) WITH ORDINALITY AS u(id, ts, hash, ord)),
      r AS (INSERT INTO ${s}.records (idx, ts, canonical)
        SELECT n.idx, n.ts, t.canonical FROM input n JOIN string_to_table($4::text, E'\\n') WITH ORDINALITY AS t(canonical, ord) ON t.ord = n.ord),
      l AS (INSERT INTO ${s}.leaves (idx, hash, id, ts) SELECT idx, hash, id, ts FROM input),
      c AS (INSERT INTO ${s}.content (idx, mode, record_id, subject, ts, data)
        SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])),
      k AS (INSERT INTO ${s}.batch_seals (first_idx, note) VALUES ($1::bigint, $12::text))
      SELECT 1`,
    values: [
      first,
      entries.map((e) => e.id),
      entries.map((e) => timeOf(e.canonical)),
      canonicalLines(entries),
      entries.map((e) => e.leafHash),
      content.at,
      content.mode,
      content.recordId,
      content.subject,
      content.ts,
      content.data,
      sealNote,
    ],
  };
}

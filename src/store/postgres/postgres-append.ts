import type pg from 'pg';
import type { StoredHead } from '../../log/sequencer.js';
import { eventIndexColumns } from './postgres-event-index.js';
import { timeOf } from './postgres-partitions.js';
import { StoreError, type Appended, type AppendRequest, type NewEntry, type StoredCheckpoint } from '../store.js';

/** The content items of a batch as parallel arrays; `at` is each item's record, as `key` maps it. */
export function contentColumns<E extends NewEntry>(entries: readonly E[], key: (entry: E, position: number) => number | string) {
  const columns = {
    at: [] as (number | string)[],
    mode: [] as string[],
    recordId: [] as string[],
    subject: [] as string[],
    ts: [] as string[],
    data: [] as Buffer[],
  };
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
export function canonicalLines(entries: readonly Pick<NewEntry, 'canonical'>[]): string {
  for (const e of entries) if (e.canonical.includes('\n')) throw new StoreError('a canonical envelope holds a raw line break, which canonical JSON never does');
  return entries.map((e) => e.canonical).join('\n');
}

/** Runs the batch's insert statement in the caller's transaction (PostgresPartitions.insertIn: it creates a missing day partition). */
export type BatchInsert = (query: pg.QueryConfig, batch: readonly NewEntry[]) => Promise<unknown>;

/**
 * Sequences and stores one batch in the caller's transaction (see Store.append). The log head's
 * row lock, taken first and held to the commit, orders the batches of every process appending to
 * the schema: the Sequencer numbers the batch after the head as stored and signs the new head,
 * and one statement inserts records, leaves, content, the call_events rows (see
 * postgres-event-index.ts), the new head and the optional checkpoint.
 * A replayed batch (from the spool, whose first commit may have gone through with its answer lost)
 * first leaves out the records already stored, each looked up by id. The lock is held for two
 * round trips and a signature (about 50 us) more than the insert itself needs.
 * Returns each entry's index (-1 for a replayed record already stored), the new head, and the
 * checkpoint when one was asked for.
 */
export async function appendBatch(
  client: pg.ClientBase,
  s: string,
  entries: readonly NewEntry[],
  request: AppendRequest,
  insert: BatchInsert,
): Promise<Appended> {
  const { rows } = await client.query<{ size: number; note: string | null; frontier: string | null }>({
    name: `llm-ledger-head-${s}`,
    text: `SELECT size, note, frontier FROM ${s}.log_head FOR UPDATE`,
  });
  const row = rows[0];
  if (!row)
    throw new StoreError(`the log head row of schema ${s} is missing (deleted by hand?); appends are refused until it is restored (run 'llm-ledger verify')`);
  const stored: StoredHead | undefined = row.note === null ? undefined : { size: Number(row.size), note: row.note, frontier: row.frontier };
  const indexes = new Array<number>(entries.length).fill(-1);
  let positions = entries.map((_, i) => i);
  if (request.replayed && entries.length > 0) {
    const { rows: found } = await client.query<{ id: string }>({
      name: `llm-ledger-stored-ids-${s}`,
      text: `SELECT id FROM ${s}.leaves WHERE id = ANY($1::text[])`,
      values: [entries.map((e) => e.id)],
    });
    const already = new Set(found.map((r) => r.id));
    positions = positions.filter((i) => !already.has(entries[i]!.id));
  }
  const batch = positions.map((i) => entries[i]!);
  const leaves = new Uint8Array(batch.length * 32);
  batch.forEach((e, i) => {
    if (e.leafHash.length !== 32) throw new StoreError(`the leaf hash of record ${e.id} is ${e.leafHash.length} bytes; a leaf hash is 32`);
    leaves.set(e.leafHash, i * 32);
  });
  const size = Number(row.size);
  // A head without a frontier (a log written before heads kept theirs, or before heads): the tree is
  // rebuilt from the stored leaves once; every head signed from now on keeps its frontier.
  const storedLeafHashes = size > 0 && request.sequencer.needsStoredLeaves(stored) ? await storedLeaves(client, s, size) : [];
  const { first, head } = request.sequencer.sequence(stored, leaves, {
    storedLeaves: () => storedLeafHashes,
    ...(request.raiseHorizon === undefined ? {} : { raiseHorizon: request.raiseHorizon }),
  });
  // Below the head, indexes would be reused. Beyond it lie rows an operator accepted into the log
  // (Sequencer.adopt): the head must then match the leaves at commit (head_matches_leaves), so none is skipped.
  if (first < size) {
    throw new StoreError(
      `the sequencer numbered a batch from index ${first} but the log head of ${s} is at ${size}; appends are refused until this is investigated (run 'llm-ledger verify')`,
    );
  }
  const checkpoint: StoredCheckpoint | undefined = request.checkpoint ? { size: head.size, note: head.note } : undefined;
  await insert(insertQuery(s, batch, first, head, checkpoint), batch);
  positions.forEach((position, i) => (indexes[position] = first + i));
  return { indexes, head: { size: head.size, note: head.note }, ...(checkpoint ? { checkpoint } : {}) };
}

/** Every stored leaf hash below `size`, in index order, held to be contiguous from 0. */
async function storedLeaves(client: pg.ClientBase, s: string, size: number): Promise<Buffer[]> {
  const { rows } = await client.query<[number, Buffer]>({
    text: `SELECT idx, hash FROM ${s}.leaves WHERE idx < $1 ORDER BY idx`,
    values: [size],
    rowMode: 'array',
  });
  rows.forEach(([idx], i) => {
    if (Number(idx) !== i)
      throw new StoreError(`the leaves of ${s} skip from index ${i} to ${idx}; appends are refused until this is investigated (run 'llm-ledger verify')`);
  });
  if (rows.length !== size)
    throw new StoreError(`the log head of ${s} says ${size} records but ${rows.length} leaf hashes are stored; run 'llm-ledger verify'`);
  return rows.map(([, hash]) => hash);
}

/** Records, leaves, content, call_events rows, the new head and the optional checkpoint at the indexes from `first`, in one statement. */
function insertQuery(
  s: string,
  entries: readonly NewEntry[],
  first: number,
  head: { size: number; note: string; frontier: string },
  checkpoint: StoredCheckpoint | undefined,
): pg.QueryConfig {
  const content = contentColumns(entries, (_e, position) => first + position);
  const events = eventIndexColumns(entries, (_e, position) => first + position);
  return {
    name: `llm-ledger-append-${s}`,
    // The texts go straight from the parameter into the insert: carried through a CTE, which is
    // materialised, they would be copied twice and spill past work_mem to temporary files.
    text: `WITH input AS (
        SELECT $1::bigint + u.ord - 1 AS idx, u.id, u.ts, u.hash, u.ord FROM unnest($2::text[], $3::timestamptz[], $5::bytea[]) WITH ORDINALITY AS u(id, ts, hash, ord)),
      r AS (INSERT INTO ${s}.records (idx, ts, canonical)
        SELECT n.idx, n.ts, t.canonical FROM input n JOIN string_to_table($4::text, E'\\n') WITH ORDINALITY AS t(canonical, ord) ON t.ord = n.ord),
      l AS (INSERT INTO ${s}.leaves (idx, hash, id, ts) SELECT idx, hash, id, ts FROM input),
      c AS (INSERT INTO ${s}.content (idx, mode, record_id, subject, ts, data)
        SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])),
      h AS (UPDATE ${s}.log_head SET size = $12::bigint, note = $13::text, frontier = $14::text),
      k AS (INSERT INTO ${s}.checkpoints (size, note) SELECT $12::bigint, $13::text WHERE $15::boolean),
      e AS (INSERT INTO ${s}.call_events (event_type, idx) SELECT * FROM unnest($16::text[], $17::bigint[]))
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
      head.size,
      head.note,
      head.frontier,
      checkpoint !== undefined,
      events.type,
      events.at,
    ],
  };
}

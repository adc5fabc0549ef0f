import { ROUTINE_EVENT_TYPES } from '../../record/call-events.js';

/**
 * The SQLite layout. The envelope text is the only copy of each record's fields: the searchable
 * columns are generated from it, so a field cannot be changed in one place and not the other.
 */
export const SQLITE_SCHEMA_VERSION = 2;

/** Envelope field -> generated column. Each gets an index so every search filter is an index seek. */
export const INDEXED_FIELDS = {
  ts: 'ts',
  kind: 'kind',
  event_type: 'eventType',
  trace_id: 'traceId',
  request_id: 'requestId',
  user_id: 'user',
  session_id: 'session',
  conversation_id: 'conversation',
  api_key_prefix: 'apiKeyPrefix',
  provider: 'provider',
  model: 'model',
  status: 'status',
} as const;

/**
 * Envelope number -> generated column, for stats. VIRTUAL and not indexed: computed only when a
 * query reads them, so they cost nothing when a record is written (schema version 2).
 */
export const NUMERIC_FIELDS = {
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  reasoning_tokens: 'reasoningTokens',
  cached_tokens: 'cachedTokens',
  cost_usd: 'costUsd',
  latency_ms: 'latencyMs',
} as const;

const numericColumn = ([column, field]: [string, string]) => `${column} REAL GENERATED ALWAYS AS (envelope ->> '$.${field}') VIRTUAL`;

const generatedColumns = [
  ...Object.entries(INDEXED_FIELDS).map(([column, field]) => `  ${column} TEXT GENERATED ALWAYS AS (envelope ->> '$.${field}') VIRTUAL`),
  ...Object.entries(NUMERIC_FIELDS).map((entry) => `  ${numericColumn(entry)}`),
].join(',\n');

/** Columns every record has: ts, kind, trace and request id (filled from the record's own id when not given). */
const ALWAYS_SET = new Set(['ts', 'kind', 'trace_id', 'request_id']);

/**
 * The other columns are indexed only where a record has a value: a filter always names one, and
 * SQLite uses such a partial index for `column = ?` and ranges. Trace events leave most of them
 * empty (a gateway call's five records have some 25 empty values in these columns), and an entry
 * for each cost the writer thread 5-14 microseconds a record. Files made before keep their full
 * indexes, which answer the same queries.
 */
const indexes = Object.keys(INDEXED_FIELDS)
  .map((column) => `CREATE INDEX IF NOT EXISTS records_${column} ON records(${column})${ALWAYS_SET.has(column) ? '' : ` WHERE ${column} IS NOT NULL`};`)
  .join('\n');

const appendOnly = (table: string) => `
CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, 'llm-ledger: ${table} is append-only; updates are refused'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, 'llm-ledger: ${table} is append-only; deletes are refused'); END;`;

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  idx INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  envelope TEXT NOT NULL,
${generatedColumns}
);
${indexes}
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  seq INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  note TEXT NOT NULL
);
${appendOnly('records')}
${appendOnly('leaves')}
${appendOnly('checkpoints')}
PRAGMA user_version = ${SQLITE_SCHEMA_VERSION};
`;

/**
 * What an older file needs before SQLITE_SCHEMA can run on it: the generated columns it lacks
 * (version 1 had no numeric columns). Virtual columns are added without rewriting any row.
 */
export function missingColumnsSql(existing: ReadonlySet<string>): string {
  return Object.entries(NUMERIC_FIELDS)
    .filter(([column]) => !existing.has(column))
    .map((entry) => `ALTER TABLE records ADD COLUMN ${numericColumn(entry)};`)
    .join('\n');
}

/** The columns `call_stats` copies from each llm.call record: what stats read, filter and group by. */
export const CALL_STATS_COLUMNS = ['ts', 'status', 'model', 'user_id', 'provider', ...Object.keys(NUMERIC_FIELDS)];

/**
 * A narrow copy of the stats columns of every llm.call record, filled by a trigger in the same
 * transaction as the record. Stats over a million calls read 100 bytes a row from it instead of
 * extracting numbers from 1.5 KB of JSON per row (about 5 times faster). It is derived data, like
 * an index, and `verify` holds it against the envelopes (see sqlite-stats-check.ts).
 */
export const SQLITE_CALL_STATS_SCHEMA = `
CREATE TABLE call_stats (
  idx INTEGER PRIMARY KEY,
  ts TEXT, status TEXT, model TEXT, user_id TEXT, provider TEXT,
  ${Object.keys(NUMERIC_FIELDS)
    .map((column) => `${column} REAL`)
    .join(', ')}
);
INSERT INTO call_stats SELECT idx, ${CALL_STATS_COLUMNS.join(', ')} FROM records WHERE kind = 'llm.call';
CREATE TRIGGER call_stats_fill AFTER INSERT ON records WHEN new.kind = 'llm.call'
BEGIN INSERT INTO call_stats VALUES (new.idx, ${CALL_STATS_COLUMNS.map((c) => `new.${c}`).join(', ')}); END;
CREATE TRIGGER call_stats_pruned AFTER DELETE ON records
BEGIN DELETE FROM call_stats WHERE idx = old.idx; END;
CREATE TRIGGER call_stats_no_update BEFORE UPDATE ON call_stats
BEGIN SELECT RAISE(ABORT, 'llm-ledger: call_stats is derived from records; updates are refused'); END;
`;

/**
 * The index of the events records carry (envelope version 2): one row per record and distinct event
 * type among its `events`, for the types a search must find quickly (not ROUTINE_EVENT_TYPES, which
 * nearly every call has). A trigger fills it from the committed envelope in the record's own
 * transaction, so it is derived data like an index; `verify` holds it against the envelopes. Format
 * 1 event records are found through the event_type column, as before. The `instr` test keeps the
 * JSON parse off records without events; one that merely quotes the text finds no events to index.
 * Added at open to files from before it, filled from their records. ROUTINE_EVENT_TYPES is part of
 * the format: the triggers of a file keep the list they were made with.
 */
export const SQLITE_CALL_EVENTS_SCHEMA = `
CREATE TABLE call_events (
  event_type TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (event_type, idx)
) WITHOUT ROWID;
INSERT INTO call_events SELECT DISTINCT j.value ->> '$.type', records.idx FROM records, json_each(records.envelope, '$.events') j
  WHERE instr(records.envelope, '"events":[') > 0 AND json_valid(records.envelope) AND ${notRoutine('j')};
CREATE TRIGGER call_events_fill AFTER INSERT ON records WHEN instr(new.envelope, '"events":[') > 0
BEGIN INSERT OR IGNORE INTO call_events SELECT DISTINCT j.value ->> '$.type', new.idx FROM json_each(new.envelope, '$.events') j WHERE ${notRoutine('j')}; END;
CREATE TRIGGER call_events_pruned AFTER DELETE ON records WHEN instr(old.envelope, '"events":[') > 0
BEGIN DELETE FROM call_events WHERE idx = old.idx AND event_type IN (SELECT value ->> '$.type' FROM json_each(old.envelope, '$.events')); END;
CREATE TRIGGER call_events_no_update BEFORE UPDATE ON call_events
BEGIN SELECT RAISE(ABORT, 'llm-ledger: call_events is derived from records; updates are refused'); END;
`;

/** SQL: the event (a row of `json_each` named `event`) is of a type call_events holds. */
function notRoutine(event: string): string {
  return `${event}.value ->> '$.type' NOT IN (${[...ROUTINE_EVENT_TYPES].map((type) => `'${type}'`).join(', ')})`;
}

/**
 * SQL over `records r`: the record carries an event of an indexed type that call_events does not
 * list for it (a search by that type would miss the record). `verify`'s scan asks it of every row.
 */
export const EVENTS_UNINDEXED = `(instr(r.envelope, '"events":[') > 0 AND EXISTS (SELECT 1 FROM json_each(r.envelope, '$.events') j WHERE ${notRoutine('j')} AND NOT EXISTS (SELECT 1 FROM call_events e WHERE e.event_type = j.value ->> '$.type' AND e.idx = r.idx)))`;

/** SQL: call_events rows (`e`) that their record does not carry (a search by that type would find a record that has no such event). */
export const EVENTS_NOT_CARRIED = `SELECT e.idx FROM call_events e LEFT JOIN records r ON r.idx = e.idx
  WHERE r.idx IS NULL OR NOT json_valid(r.envelope) OR NOT EXISTS (SELECT 1 FROM json_each(r.envelope, '$.events') j WHERE j.value ->> '$.type' = e.event_type)
  ORDER BY 1`;

/**
 * The log's signed head: one row, replaced in the transaction of every batch with the checkpoint
 * signed over the whole log after that batch, and the tree's right edge (`frontier`, MerkleFrontier
 * JSON) from which the next batch's writer, in whichever process, extends the tree (see
 * Sequencer). A record beyond it was not sequenced by a writer (it was inserted into the file),
 * and `verify` and every writer say so. The signature is the guarantee; the trigger only keeps an
 * honest mistake from moving it back. Run on every open, so files from before heads get the table
 * (empty until their next append); SQLITE_HEAD_FRONTIER adds the frontier to files from before it.
 */
export const SQLITE_HEAD_SCHEMA = `
CREATE TABLE IF NOT EXISTS head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  size INTEGER NOT NULL,
  note TEXT NOT NULL,
  frontier TEXT
);
CREATE TRIGGER IF NOT EXISTS head_forward_only BEFORE UPDATE ON head WHEN new.size < old.size
BEGIN SELECT RAISE(ABORT, 'llm-ledger: the signed head only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS head_no_delete BEFORE DELETE ON head
BEGIN SELECT RAISE(ABORT, 'llm-ledger: head is kept; deletes are refused'); END;
`;

/** The head's frontier column, for files whose head table predates it (NULL until their next append). */
export const SQLITE_HEAD_FRONTIER = 'ALTER TABLE head ADD COLUMN frontier TEXT';

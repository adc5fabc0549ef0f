/**
 * The PostgreSQL layout, as versioned migrations. The canonical envelope text is the only copy of
 * each record's fields: the JSONB envelope is generated from it, so a field cannot be changed in
 * one place and not the other, and `verify` hashes exactly the bytes that were committed.
 *
 * Defence in depth (the Merkle tree and its anchored checkpoints remain the guarantee):
 * - four roles: the owner owns every object; the writer may only SELECT and INSERT on the log's
 *   tables; the reader may only SELECT; retention may only DELETE records below the pruning horizon;
 * - row triggers refuse UPDATE and DELETE on the log's tables, and statement triggers refuse
 *   TRUNCATE on each table and each records partition. All are `ENABLE ALWAYS`, so setting
 *   `session_replication_role = replica` (which silences ordinary triggers) does not bypass them;
 * - records are partitioned by UTC day of `ts`; partitions are created by a SECURITY DEFINER
 *   function the writer may call, so the writer never needs to own a table.
 */

import { ROUTINE_EVENT_TYPES } from '../../record/call-events.js';

/** The roles of one ledger schema; their names start with the schema's so several ledgers can share a cluster. */
export interface PostgresRoles {
  owner: string;
  writer: string;
  reader: string;
  retention: string;
}

export function rolesOf(schema: string): PostgresRoles {
  return { owner: `${schema}_owner`, writer: `${schema}_writer`, reader: `${schema}_reader`, retention: `${schema}_retention` };
}

/** Envelope field -> JSONB expression; each has an index on (expression, idx), so every filter walks an index in log order. */
export const FILTER_EXPRESSIONS = {
  model: `(envelope ->> 'model')`,
  provider: `(envelope ->> 'provider')`,
  user: `(envelope ->> 'user')`,
  session: `(envelope ->> 'session')`,
  conversation: `(envelope ->> 'conversation')`,
  status: `(envelope ->> 'status')`,
  kind: `(envelope ->> 'kind')`,
  eventType: `(envelope ->> 'eventType')`,
  traceId: `(envelope ->> 'traceId')`,
  requestId: `(envelope ->> 'requestId')`,
} as const;

/** Compared byte-wise, so a prefix is a range an index can answer whatever the database's collation. */
export const KEY_PREFIX_EXPRESSION = `((envelope ->> 'apiKeyPrefix') COLLATE "C")`;

/** Envelope number -> expression, for stats (read, never indexed). */
export const NUMERIC_EXPRESSIONS = ['inputTokens', 'outputTokens', 'reasoningTokens', 'cachedTokens', 'costUsd', 'latencyMs'].map(
  (field) => `(envelope ->> '${field}')::float8`,
);

export interface Migration {
  version: number;
  name: string;
  /** The statements, run as the owner role in the migration transaction. */
  sql: (schema: string, roles: PostgresRoles) => string;
}

const q = (name: string) => `"${name}"`;

/** Row triggers against UPDATE and DELETE, a statement trigger against TRUNCATE, all firing always. */
function appendOnly(s: string, table: string, rowFunction = 'refuse_change'): string {
  return `
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${s}.${table} FOR EACH ROW EXECUTE FUNCTION ${s}.${rowFunction}();
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change();
ALTER TABLE ${s}.${table} ENABLE ALWAYS TRIGGER ${table}_append_only;
ALTER TABLE ${s}.${table} ENABLE ALWAYS TRIGGER ${table}_no_truncate;`;
}

const indexes = (s: string) =>
  [
    ...Object.entries(FILTER_EXPRESSIONS).map(([field, expr]) => `CREATE INDEX records_${field.toLowerCase()} ON ${s}.records (${expr}, idx);`),
    `CREATE INDEX records_key_prefix ON ${s}.records (${KEY_PREFIX_EXPRESSION}, idx);`,
  ].join('\n');

/**
 * Retention drops a whole day partition once every row in it is below the pruning horizon and the
 * day is over, and records the drop in dropped_partitions. `beforeDrop`: statements run for each
 * partition (`part`) just before it is dropped (migration 7 deletes its records' call_events rows).
 */
const dropPrunedPartitions = (schema: string, create: 'CREATE' | 'CREATE OR REPLACE', beforeDrop?: string): string => {
  const s = q(schema);
  return `${create} FUNCTION ${s}.drop_pruned_partitions() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog SET TimeZone = 'UTC' AS $fn$
DECLARE
  horizon bigint := (SELECT coalesce(max(below), 0) FROM ${s}.pruned);
  part record;
  first_idx bigint;
  last_idx bigint;
  n bigint;
  dropped bigint := 0;
BEGIN
  FOR part IN
    SELECT c.relname, to_date(substr(c.relname, 9), 'YYYYMMDD') AS day
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = '${schema}.records'::regclass AND c.relname ~ '^records_[0-9]{8}$'
    ORDER BY c.relname
  LOOP
    CONTINUE WHEN (part.day + 1)::timestamptz > now() - interval '1 day';
    EXECUTE format('SELECT min(idx), max(idx), count(*) FROM %I.%I', '${schema}', part.relname) INTO first_idx, last_idx, n;
    CONTINUE WHEN last_idx >= horizon;
    INSERT INTO ${s}.dropped_partitions (name, days, first_idx, last_idx, row_count, horizon)
      VALUES (part.relname, tstzrange(part.day::timestamptz, (part.day + 1)::timestamptz), first_idx, last_idx, n, horizon);
${beforeDrop === undefined ? '' : `    ${beforeDrop}\n`}    EXECUTE format('DROP TABLE %I.%I', '${schema}', part.relname);
    dropped := dropped + n;
  END LOOP;
  RETURN dropped;
END $fn$;`;
};

/**
 * Creates the day partitions that do not exist yet, each with its own TRUNCATE trigger (statement
 * triggers are not inherited) and `partitionOptions` (storage parameters). SECURITY DEFINER: the
 * writer may add partitions without owning the table.
 */
const ensurePartitions = (schema: string, partitionOptions = ''): string => {
  const s = q(schema);
  return `
CREATE OR REPLACE FUNCTION ${s}.ensure_partitions(days date[]) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog SET TimeZone = 'UTC' AS $fn$
DECLARE
  day date;
  part text;
  created integer := 0;
BEGIN
  FOREACH day IN ARRAY days LOOP
    part := 'records_' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(format('%I.%I', '${schema}', part)) IS NOT NULL;
    PERFORM pg_advisory_xact_lock(hashtext('llm-ledger:partitions:${schema}'));
    BEGIN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.records FOR VALUES FROM (%L) TO (%L)${partitionOptions}', '${schema}', part, '${schema}', day::timestamptz, (day + 1)::timestamptz);
      EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.refuse_change()', part || '_no_truncate', '${schema}', part, '${schema}');
      EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', '${schema}', part, part || '_no_truncate');
      created := created + 1;
    EXCEPTION WHEN duplicate_table THEN
      NULL; -- Another process created it while this one waited for the lock.
    END;
  END LOOP;
  RETURN created;
END $fn$;
`;
};

const initial = (schema: string, roles: PostgresRoles): string => {
  const s = q(schema);
  const { writer, reader, retention } = { writer: q(roles.writer), reader: q(roles.reader), retention: q(roles.retention) };
  return `
CREATE FUNCTION ${s}.refuse_change() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  RAISE EXCEPTION 'llm-ledger: %.% is append-only; % is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'the audit log is never changed in place; retention prunes below the horizon only';
END $fn$;

-- The one exception to append-only: retention deletes records below the pruning horizon.
CREATE FUNCTION ${s}.records_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.idx < (SELECT coalesce(max(below), 0) FROM ${s}.pruned) THEN RETURN OLD; END IF;
  RAISE EXCEPTION 'llm-ledger: records is append-only; % is refused (only retention deletes, below the pruning horizon)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $fn$;

CREATE FUNCTION ${s}.pruned_forward_only() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF NEW.below <= (SELECT coalesce(max(below), 0) FROM ${s}.pruned) THEN
    RAISE EXCEPTION 'llm-ledger: the pruning horizon only moves forward' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $fn$;

CREATE TABLE ${s}.records (
  idx bigint NOT NULL CHECK (idx >= 0),
  ts timestamptz NOT NULL,
  canonical text NOT NULL,
  envelope jsonb GENERATED ALWAYS AS (canonical::jsonb) STORED,
  PRIMARY KEY (idx, ts),
  CONSTRAINT records_ts_is_the_envelopes CHECK (ts = (envelope ->> 'ts')::timestamptz)
) PARTITION BY RANGE (ts);
${indexes(s)}

-- Leaf hashes, apart from the rows so a moved or changed row is caught; also the id -> position map.
CREATE TABLE ${s}.leaves (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  id text NOT NULL UNIQUE,
  ts timestamptz NOT NULL
);
CREATE TABLE ${s}.checkpoints (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  size bigint NOT NULL,
  note text NOT NULL
);
CREATE TABLE ${s}.pruned (below bigint NOT NULL);
-- What retention dropped as whole partitions: the range of days, of indexes and the horizon it was below.
CREATE TABLE ${s}.dropped_partitions (
  name text NOT NULL,
  days tstzrange NOT NULL,
  first_idx bigint,
  last_idx bigint,
  row_count bigint NOT NULL,
  horizon bigint NOT NULL,
  dropped_at timestamptz NOT NULL DEFAULT now()
);
${appendOnly(s, 'records', 'records_guard')}
${appendOnly(s, 'leaves')}
${appendOnly(s, 'checkpoints')}
${appendOnly(s, 'pruned')}
${appendOnly(s, 'dropped_partitions')}
CREATE TRIGGER pruned_forward_only BEFORE INSERT ON ${s}.pruned FOR EACH ROW EXECUTE FUNCTION ${s}.pruned_forward_only();
ALTER TABLE ${s}.pruned ENABLE ALWAYS TRIGGER pruned_forward_only;

-- Content and data keys: not append-only (erasure and retention delete them); no proof depends on them.
CREATE TABLE ${s}.content (
  idx bigint NOT NULL,
  mode text NOT NULL,
  record_id text NOT NULL,
  subject text NOT NULL,
  ts text COLLATE "C" NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (idx, mode)
);
CREATE INDEX content_subject ON ${s}.content (subject, idx);
CREATE INDEX content_ts ON ${s}.content (ts);
CREATE TABLE ${s}.data_keys (
  subject text NOT NULL,
  version integer NOT NULL,
  kek_id text NOT NULL,
  wrapped bytea NOT NULL,
  PRIMARY KEY (subject, version)
);
CREATE TABLE ${s}.erased_subjects (
  subject text PRIMARY KEY,
  erased_through integer NOT NULL
);

${ensurePartitions(schema)}
-- Retention drops a whole day partition instead of deleting its rows one by one, once every row in
-- it is below the pruning horizon and the day is over; the drop is recorded in dropped_partitions.
${dropPrunedPartitions(schema, 'CREATE')}

REVOKE ALL ON FUNCTION ${s}.ensure_partitions(date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ${s}.drop_pruned_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${s}.ensure_partitions(date[]) TO ${writer};
GRANT EXECUTE ON FUNCTION ${s}.drop_pruned_partitions() TO ${retention};

GRANT USAGE ON SCHEMA ${s} TO ${writer}, ${reader}, ${retention};
GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${reader}, ${writer};
GRANT INSERT ON ${s}.records, ${s}.leaves, ${s}.checkpoints, ${s}.content, ${s}.data_keys, ${s}.erased_subjects TO ${writer};
-- Erasure: the writer deletes a subject's content and keys, and rewraps keys (none of it is in the log).
GRANT DELETE ON ${s}.content, ${s}.data_keys TO ${writer};
GRANT UPDATE ON ${s}.data_keys, ${s}.erased_subjects TO ${writer};
GRANT SELECT ON ${s}.records, ${s}.pruned, ${s}.content TO ${retention};
GRANT DELETE ON ${s}.records, ${s}.content TO ${retention};
GRANT INSERT ON ${s}.pruned TO ${retention};
`;
};

/**
 * Many writers, one log. `log_head` holds the next free index (and, since version 6, the signed head). A writer numbers its batch inside
 * the statement that inserts it, by moving the head forward: the head's row lock orders the
 * batches of all processes, is held only while that one statement runs (never across a client
 * round trip), and is released at commit, so the indexes visible to any reader are always a
 * contiguous prefix. A batch that rolls back rolls its head move back with it, so no index is
 * ever skipped. At every commit the head must equal the number of leaves, so a gap cannot be
 * committed, not even by a writer that moves the head by hand.
 */
const manyWriters = (schema: string, roles: PostgresRoles): string => {
  const s = q(schema);
  return `
CREATE TABLE ${s}.log_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO ${s}.log_head (size) SELECT coalesce(max(idx), -1) + 1 FROM ${s}.leaves;

CREATE FUNCTION ${s}.head_forward_only() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.size < OLD.size THEN
    RAISE EXCEPTION 'llm-ledger: the log head only moves forward; % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $fn$;
CREATE TRIGGER log_head_forward_only BEFORE UPDATE OR DELETE ON ${s}.log_head FOR EACH ROW EXECUTE FUNCTION ${s}.head_forward_only();
CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON ${s}.log_head FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change();
ALTER TABLE ${s}.log_head ENABLE ALWAYS TRIGGER log_head_forward_only;
ALTER TABLE ${s}.log_head ENABLE ALWAYS TRIGGER log_head_no_truncate;

-- Checked once per transaction, at commit: the head and the leaves agree, so no index is skipped.
CREATE FUNCTION ${s}.head_matches_leaves() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
  leaves bigint := (SELECT coalesce(max(idx), -1) + 1 FROM ${s}.leaves);
BEGIN
  IF NEW.size <> leaves THEN
    RAISE EXCEPTION 'llm-ledger: the log head (%) does not match the leaves (%): indexes must stay contiguous', NEW.size, leaves
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$;
CREATE CONSTRAINT TRIGGER log_head_matches_leaves AFTER UPDATE ON ${s}.log_head DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ${s}.head_matches_leaves();
ALTER TABLE ${s}.log_head ENABLE ALWAYS TRIGGER log_head_matches_leaves;

GRANT SELECT, UPDATE ON ${s}.log_head TO ${q(roles.writer)};
GRANT SELECT ON ${s}.log_head TO ${q(roles.reader)};
`;
};

/**
 * Records are about 3.5 KB with the text and its JSONB, above PostgreSQL's 2 KB TOAST threshold, so
 * every insert compresses them: lz4 does that at about 1.6 times the insert rate of the default
 * pglz, for the same size on disk. Existing partitions are altered one by one (new ones take the
 * parent's setting); a server built without lz4 keeps pglz.
 */
const lz4Records = (schema: string): string => {
  const s = q(schema);
  return `
DO $do$
DECLARE
  part regclass;
BEGIN
  ALTER TABLE ${s}.records ALTER COLUMN canonical SET COMPRESSION lz4, ALTER COLUMN envelope SET COMPRESSION lz4;
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '${s}.records'::regclass LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN canonical SET COMPRESSION lz4, ALTER COLUMN envelope SET COMPRESSION lz4', part);
  END LOOP;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'llm-ledger: this PostgreSQL has no lz4; records stay compressed with pglz';
END $do$;
`;
};

/**
 * The size up to which PostgreSQL keeps a row whole in its page. By default (about 2 KB) a
 * realistic record, 1.6 KB of text and its JSONB, compresses with lz4 to about 2.4 KB and so still
 * has one value moved out of line into the TOAST table: every record then cost a second heap row,
 * a TOAST index entry and their WAL. At 2,600 bytes the compressed record stays in its row: server
 * CPU 70 -> 64 us and WAL 4.2 -> 4.0 KB a record, 4 writer processes 10,700 -> 11,700 records/s
 * (three runs each of 60,000). Larger records go out of line as before; a row under 2 KB was never
 * compressed or moved, and still is not.
 */
const RECORD_ROW_TARGET_BYTES = 2600;

const recordsInline = (schema: string): string => `
${ensurePartitions(schema, ` WITH (toast_tuple_target = ${RECORD_ROW_TARGET_BYTES})`)}
DO $do$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '${q(schema)}.records'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (toast_tuple_target = ${RECORD_ROW_TARGET_BYTES})', part);
  END LOOP;
END $do$;
`;

/**
 * One signed seal per batch (see src/log/batch-seal.ts), inserted by the writer in the batch's own
 * transaction: the integrator signs no checkpoint over a row no seal covers, so a row written into
 * the database by anyone but a writer of this ledger never enters the signed log. Rows stored
 * before this version are covered by the checkpoints their integrator signed. Written by versions
 * before signed heads (6) only; read only since.
 */
const batchSeals = (schema: string, roles: PostgresRoles): string => {
  const s = q(schema);
  return `
CREATE TABLE ${s}.batch_seals (
  first_idx bigint PRIMARY KEY CHECK (first_idx >= 0),
  note text NOT NULL
);
${appendOnly(s, 'batch_seals')}
GRANT SELECT ON ${s}.batch_seals TO ${q(roles.reader)}, ${q(roles.writer)};
GRANT INSERT ON ${s}.batch_seals TO ${q(roles.writer)};
`;
};

/**
 * The signed head in the log head's row: every batch is sequenced under the row's lock (see
 * src/store/postgres/postgres-append.ts) and writes the note signed over the whole log with it, and the
 * tree's frontier to extend it by. Rows of a schema written before keep NULL until the first batch
 * of this version. The head only moves forward, is never taken away once signed, and moves only
 * with a new note: a writer of an older version (which numbered batches without signing a head)
 * is refused, so one log never mixes the two designs. Batch seals are no longer written (kept,
 * read only, for the records they vouch for).
 */
const signedHead = (schema: string, roles: PostgresRoles): string => {
  const s = q(schema);
  return `
ALTER TABLE ${s}.log_head ADD COLUMN note text, ADD COLUMN frontier text;

CREATE OR REPLACE FUNCTION ${s}.head_forward_only() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.size < OLD.size THEN
    RAISE EXCEPTION 'llm-ledger: the log head only moves forward; % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.note IS NOT NULL AND NEW.note IS NULL THEN
    RAISE EXCEPTION 'llm-ledger: the signed head of the log is never removed' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.size <> OLD.size AND NEW.note IS NOT DISTINCT FROM OLD.note THEN
    RAISE EXCEPTION 'llm-ledger: the log head moved without a new signed head: a writer of a version before signed heads appends to this schema (version 6); upgrade it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $fn$;

REVOKE INSERT ON ${s}.batch_seals FROM ${q(roles.writer)};
`;
};

/** The event types call_events leaves out (see ROUTINE_EVENT_TYPES), as a SQL array. */
const ROUTINE_EVENT_TYPES_SQL = `ARRAY[${[...ROUTINE_EVENT_TYPES].map((type) => `'${type}'`).join(', ')}]::text[]`;

/**
 * The event types of a record's `events` that call_events holds, each once, as rows (type, idx)
 * for `FROM records r`: what indexedEventTypes (src/record/call-events.ts) says, in SQL, for the
 * fill below and for checkEventIndex. An `events` that is not a list, or a type that is not a
 * string (no valid envelope has either), gives no row rather than an error.
 */
export const indexedEventRows = (envelope: string): string =>
  `SELECT DISTINCT e ->> 'type' AS event_type FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${envelope} -> 'events') = 'array' THEN ${envelope} -> 'events' END) e
    WHERE jsonb_typeof(e -> 'type') = 'string' AND NOT (e ->> 'type' = ANY (${ROUTINE_EVENT_TYPES_SQL}))`;

/**
 * call_events: one row per record and notable event type among its `events` (format 2), so a
 * search by such a type is an index seek here, as a format 1 event record's is on the eventType
 * expression index. It is derived from the committed envelope, written by the writer in the
 * batch's own statement (see postgres-append.ts), and held against the envelopes by `verify`
 * (checkEventIndex). Defended as the log's tables are: append-only for everyone but retention,
 * which deletes the rows of the records it prunes (below the horizon, as records_guard allows for
 * records), in the same transaction: with the rows it deletes (PostgresPruning.prune), and in
 * drop_pruned_partitions, redefined here to delete the rows of a partition's records before it
 * drops the partition. Schemas before it hold format 1 records only, so the fill finds nothing to
 * add; it runs anyway, so an index is never missing rows of a record it should hold.
 */
const callEvents = (schema: string, roles: PostgresRoles): string => {
  const s = q(schema);
  return `
CREATE TABLE ${s}.call_events (
  event_type text NOT NULL,
  idx bigint NOT NULL CHECK (idx >= 0),
  PRIMARY KEY (event_type, idx)
);
-- Pruning deletes by record, and checkEventIndex joins by record.
CREATE INDEX call_events_idx ON ${s}.call_events (idx);
INSERT INTO ${s}.call_events (event_type, idx) SELECT t.event_type, r.idx FROM ${s}.records r, LATERAL (${indexedEventRows('r.envelope')}) t
  WHERE r.canonical LIKE '%"events":[%';

CREATE FUNCTION ${s}.call_events_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.idx < (SELECT coalesce(max(below), 0) FROM ${s}.pruned) THEN RETURN OLD; END IF;
  RAISE EXCEPTION 'llm-ledger: call_events is append-only; % is refused (only retention deletes, below the pruning horizon)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $fn$;
${appendOnly(s, 'call_events', 'call_events_guard')}

${dropPrunedPartitions(
  schema,
  'CREATE OR REPLACE',
  `-- By the partition's own indexes, not its range: a record of another day may lie within it.
    EXECUTE format('DELETE FROM %I.call_events WHERE idx IN (SELECT idx FROM %I.%I)', '${schema}', '${schema}', part.relname);`,
)}

GRANT SELECT ON ${s}.call_events TO ${q(roles.reader)}, ${q(roles.writer)}, ${q(roles.retention)};
GRANT INSERT ON ${s}.call_events TO ${q(roles.writer)};
GRANT DELETE ON ${s}.call_events TO ${q(roles.retention)};
`;
};

/** In order; a new version is appended here and never edited once released. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial layout: partitioned records, roles, append-only triggers', sql: initial },
  { version: 2, name: 'many writers: the log head numbers batches from any number of processes', sql: manyWriters },
  { version: 3, name: 'records compressed with lz4', sql: lz4Records },
  { version: 4, name: 'compressed records kept whole in their row', sql: recordsInline },
  { version: 5, name: 'a signed seal with every batch', sql: batchSeals },
  { version: 6, name: 'the signed head and its frontier in the log head, written with every batch', sql: signedHead },
  { version: 7, name: 'call_events: the notable event types records carry, indexed', sql: callEvents },
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

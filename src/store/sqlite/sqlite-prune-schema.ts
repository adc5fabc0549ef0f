/**
 * The pruning horizon of a SQLite ledger, and the one exception it makes to the records table's
 * append-only trigger: rows below the horizon may be deleted, by retention. The horizon only
 * moves forward. Run on every open; the trigger is replaced only in files that predate it.
 * (The database is not the guarantee: `verify` takes the horizon from the log's own signed
 * `retention` records, so rows deleted without one are still reported missing.)
 */
export const SQLITE_PRUNE_SCHEMA = `
CREATE TABLE IF NOT EXISTS pruned (below INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS pruned_forward_only BEFORE INSERT ON pruned
WHEN new.below <= coalesce((SELECT max(below) FROM pruned), 0)
BEGIN SELECT RAISE(ABORT, 'llm-ledger: the pruning horizon only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS pruned_no_update BEFORE UPDATE ON pruned
BEGIN SELECT RAISE(ABORT, 'llm-ledger: pruned is append-only; updates are refused'); END;
CREATE TRIGGER IF NOT EXISTS pruned_no_delete BEFORE DELETE ON pruned
BEGIN SELECT RAISE(ABORT, 'llm-ledger: pruned is append-only; deletes are refused'); END;
`;

export const RECORDS_DELETE_TRIGGER = `CREATE TRIGGER records_no_delete BEFORE DELETE ON records
WHEN old.idx >= coalesce((SELECT max(below) FROM pruned), 0)
BEGIN SELECT RAISE(ABORT, 'llm-ledger: records is append-only; only retention deletes, below the pruning horizon'); END`;

/**
 * Tables for content and data keys. Unlike the log's tables they are not append-only: erasure
 * and retention delete from them, which is safe because no proof depends on them (the envelope
 * holds the content's digest). Created with IF NOT EXISTS on every open, so older files gain them.
 */
export const SQLITE_CONTENT_SCHEMA = `
CREATE TABLE IF NOT EXISTS content (
  idx INTEGER NOT NULL,
  mode TEXT NOT NULL,
  record_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  ts TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (idx, mode)
);
CREATE INDEX IF NOT EXISTS content_subject ON content(subject);
CREATE INDEX IF NOT EXISTS content_ts ON content(ts);
CREATE TABLE IF NOT EXISTS data_keys (
  subject TEXT NOT NULL,
  version INTEGER NOT NULL,
  kek_id TEXT NOT NULL,
  wrapped BLOB NOT NULL,
  PRIMARY KEY (subject, version)
);
CREATE TABLE IF NOT EXISTS erased_subjects (
  subject TEXT PRIMARY KEY,
  erased_through INTEGER NOT NULL
);
`;

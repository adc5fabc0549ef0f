/**
 * The shared suite's `tamper` hook for each driver (see StoreTamper): rows changed in storage
 * directly, past the guards that keep honest mistakes out, as someone with write access could.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Envelope } from '../../record/types.js';
import type { MemoryStore } from '../memory/memory-store.js';
import { rolesOf } from '../postgres/postgres-schema.js';
import type { StoreTamper } from './conformance-fixtures.js';
import { withClient } from './postgres.js';

/** The memory store's rows, reached into. */
export const memoryTamper: StoreTamper = {
  rewrite: async (store, index, canonical) => {
    const row = rowsOf(store as MemoryStore).find((r) => r.index === index)!;
    row.canonical = canonical;
    row.envelope = JSON.parse(canonical) as Envelope;
  },
  move: async (store, index, to) => {
    rowsOf(store as MemoryStore).find((r) => r.index === index)!.index = to;
  },
};

function rowsOf(store: MemoryStore): { index: number; canonical: string; envelope: Envelope }[] {
  return (store as unknown as { rows: { index: number; canonical: string; envelope: Envelope }[] }).rows;
}

/** A SQLite file edited on a connection of its own, the records table's append-only triggers dropped. */
export function sqliteTamper(file: () => string): StoreTamper {
  const edit = (sql: string, ...params: (string | number)[]) => {
    const db = new DatabaseSync(file());
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      const guards = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'records' AND name LIKE 'records\\_no\\_%' ESCAPE '\\'")
        .all() as { name: string }[];
      for (const { name } of guards) db.exec(`DROP TRIGGER "${name}"`);
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };
  return {
    rewrite: async (_, index, canonical) => edit('UPDATE records SET envelope = ? WHERE idx = ?', canonical, index),
    move: async (_, index, to) => edit('UPDATE records SET idx = ? WHERE idx = ?', to, index),
    editEventIndex: async (_, index, type, listed) =>
      listed
        ? edit('INSERT INTO call_events (event_type, idx) VALUES (?, ?)', type, index)
        : edit('DELETE FROM call_events WHERE event_type = ? AND idx = ?', type, index),
  };
}

/** A PostgreSQL schema edited as its owner, with the records' triggers switched off (they are ENABLE ALWAYS: session_replication_role does not silence them). */
export function postgresTamper(schema: () => string): StoreTamper {
  const edit = (sql: string, params: unknown[]) =>
    withClient(async (client) => {
      const s = `"${schema()}"`;
      await client.query(`SET ROLE "${rolesOf(schema()).owner}"`);
      await client.query(`ALTER TABLE ${s}.records DISABLE TRIGGER USER`);
      await client.query(sql.replaceAll('$s', s), params);
    });
  return {
    rewrite: (_, index, canonical) => edit('UPDATE $s.records SET canonical = $1 WHERE idx = $2', [canonical, index]),
    move: (_, index, to) => edit('UPDATE $s.records SET idx = $1 WHERE idx = $2', [to, index]),
  };
}

/** A JSONL store's day files edited in place: the line of a record rewritten, or the index it claims changed. */
export function jsonlTamper(dir: () => string): StoreTamper {
  const edit = (index: number, change: (line: string) => string) => {
    const prefix = `{"index":${index},"envelope":`;
    for (const name of readdirSync(dir()).filter((n) => /^audit_.*\.jsonl$/.test(n))) {
      const path = join(dir(), name);
      const lines = readFileSync(path, 'utf8').split('\n');
      const at = lines.findIndex((line) => line.startsWith(prefix));
      if (at < 0) continue;
      lines[at] = change(lines[at]!);
      writeFileSync(path, lines.join('\n'));
      return;
    }
    throw new Error(`no line of index ${index} in ${dir()}`);
  };
  return {
    rewrite: async (_, index, canonical) => edit(index, () => `{"index":${index},"envelope":${canonical}}`),
    move: async (_, index, to) => edit(index, (line) => `{"index":${to},${line.slice(`{"index":${index},`.length)}`),
  };
}

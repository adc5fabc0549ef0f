import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { NewEntry } from '../src/store/store.js';
import { timedBatches } from './postgres-batches.js';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: a backslash starts an escape; tab, newline and carriage return end fields and rows. */
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!);
}

async function copyInto(client: pg.Client, sql: string, lines: string[]): Promise<void> {
  await pipeline(Readable.from([`${lines.join('\n')}\n`]), client.query(copyFrom(sql)));
}

/**
 * The server's own ceiling for these rows: COPY FROM STDIN, the fastest way PostgreSQL takes rows,
 * of the same records and leaves (indexes given, so no numbering and no log-wide lock), one
 * transaction per batch, from `connections` connections at once.
 */
export function copyRate(url: string, schema: string, rows: readonly (NewEntry & { ts: string })[], connections: number) {
  const s = `"${schema}"`;
  return timedBatches(url, rows.length, connections, async (client, from, to) => {
    const batch = rows.slice(from, to);
    await client.query('BEGIN');
    await copyInto(
      client,
      `COPY ${s}.records (idx, ts, canonical) FROM STDIN`,
      batch.map((r, i) => `${from + i}\t${r.ts}\t${copyText(r.canonical)}`),
    );
    await copyInto(
      client,
      `COPY ${s}.leaves (idx, hash, id, ts) FROM STDIN`,
      batch.map((r, i) => `${from + i}\t\\\\x${r.leafHash.toString('hex')}\t${copyText(r.id)}\t${r.ts}`),
    );
    await client.query('COMMIT');
  });
}

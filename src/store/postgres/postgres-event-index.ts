import { indexedEventTypes } from '../../record/call-events.js';
import type { Envelope } from '../../record/types.js';
import { StoreError, type NewEntry } from '../store.js';

/**
 * The call_events rows of a batch (see the callEvents migration in postgres-schema.ts) as parallel
 * arrays: each entry's indexed event types (indexedEventTypes in src/record/call-events.ts), at its
 * index as `key` maps it; inserted by the batch's one statement (postgres-append.ts).
 *
 * Computed by the writer: the ledger hands over the types with each record (`NewEntry.eventTypes`,
 * read from the envelope object it has); only a record without them (replayed from the spool) is
 * parsed. What the alternatives cost a batch of 2,048 realistic format 2 records (2.5 KB, 8-10
 * events each), on a shared 2-core machine: JSON.parse and indexedEventTypes 28-43 ms of writer
 * CPU (14-21 us a record); the server reading the types from the jsonb it makes of each record
 * anyway (in the batch statement, or a row trigger) 22-25 ms of server CPU, and the server is one
 * for all writers, so its CPU is what limits ingest from several.
 */
export function eventIndexColumns<E extends Pick<NewEntry, 'id' | 'canonical' | 'eventTypes'>>(
  entries: readonly E[],
  key: (entry: E, position: number) => number | string,
) {
  const columns = { type: [] as string[], at: [] as (number | string)[] };
  entries.forEach((e, position) => {
    const types = e.eventTypes ?? (e.canonical.includes('"events":[') ? indexedEventTypes(parsed(e)) : []);
    for (const type of types) {
      columns.type.push(type);
      columns.at.push(key(e, position));
    }
  });
  return columns;
}

function parsed(entry: Pick<NewEntry, 'id' | 'canonical'>): Envelope {
  try {
    return JSON.parse(entry.canonical) as Envelope;
  } catch (err) {
    throw new StoreError(`the canonical envelope of record ${entry.id} is not JSON (${(err as Error).message})`, { cause: err });
  }
}

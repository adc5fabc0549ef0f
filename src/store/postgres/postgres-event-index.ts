import { ROUTINE_EVENT_TYPES } from '../../record/call-events.js';
import type { Envelope } from '../../record/types.js';
import { StoreError, type NewEntry } from '../store.js';

/**
 * The call_events rows of a batch (see the callEvents migration in postgres-schema.ts) as parallel
 * arrays: each entry's indexed event types (what indexedEventTypes in src/record/call-events.ts
 * says), at its index as `key` maps it; inserted by the batch's one statement (postgres-append.ts).
 *
 * Computed by the writer, from the text, without parsing it. What each way costs a batch of 2,048
 * realistic format 2 records (2.5 KB, 8-10 events each, 3% with a notable one), on a shared 2-core
 * machine, the best of several runs (`LLM_LEDGER_MEASURE=1 npx vitest run
 * src/store/postgres/postgres-event-index.test.ts`; figures varied by half between runs, their order did not):
 * - this scan of the text: 12-18 ms of writer CPU (6-9 us a record);
 * - JSON.parse and indexedEventTypes: 28-43 ms of writer CPU (14-21 us a record), a third to half
 *   again what a writer otherwise spends on a record (57 us);
 * - the server reading the types from the jsonb it makes of each record anyway, in the batch
 *   statement (RETURNING the events from the records insert) or a row trigger: 22-25 ms of server
 *   CPU (11-12 us a record), a trigger adding a plpgsql call per record to that.
 * The server is one for all writers, so its CPU is what limits ingest from several: the rows go
 * to it ready, as two arrays beside the batch's others (an insert of a few rows a batch, lost in
 * the noise of the end-to-end runs).
 */
export function eventIndexColumns<E extends Pick<NewEntry, 'id' | 'canonical'>>(entries: readonly E[], key: (entry: E, position: number) => number | string) {
  const columns = { type: [] as string[], at: [] as (number | string)[] };
  entries.forEach((e, position) => {
    if (!e.canonical.includes('"events":[')) return;
    let types: Set<string> | undefined;
    for (const type of eventTypesInText(e.canonical) ?? eventTypesParsed(e)) if (!ROUTINE_EVENT_TYPES.has(type)) (types ??= new Set()).add(type);
    for (const type of types ?? []) {
      columns.type.push(type);
      columns.at.push(key(e, position));
    }
  });
  return columns;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Nesting of the keys the scan looks for: the envelope's own, and its events'. */
const ENVELOPE_DEPTH = 1;
const EVENT_DEPTH = 3;

/**
 * The `type` of each event in an envelope's top-level `events`, read from its JSON text in one
 * pass that stops at the end of the list: strings are skipped whole (their quotes found by
 * indexOf), and only brackets outside them are counted. Undefined when a type is not a plain
 * string (escaped, or not a string at all) or `events` is not a list, which the caller then leaves
 * to JSON.parse.
 */
export function eventTypesInText(text: string): string[] | undefined {
  const types: string[] = [];
  let depth = 0;
  let inEvents = false;
  for (let at = 0; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) {
      const end = stringEnd(text, at);
      if (end < 0) return undefined;
      if (text.charCodeAt(end + 1) === COLON) {
        if (depth === ENVELOPE_DEPTH && isKey(text, at, end, 'events')) {
          if (text.charCodeAt(end + 2) !== OPEN_ARRAY) return undefined;
          inEvents = true;
        } else if (inEvents && depth === EVENT_DEPTH && isKey(text, at, end, 'type')) {
          if (text.charCodeAt(end + 2) !== QUOTE) return undefined;
          const valueEnd = stringEnd(text, end + 2);
          if (valueEnd < 0) return undefined;
          const type = text.slice(end + 3, valueEnd);
          if (type.includes('\\')) return undefined;
          types.push(type);
          at = valueEnd;
          continue;
        }
      }
      at = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (inEvents && depth === ENVELOPE_DEPTH) return types;
    }
  }
  return types;
}

/** Whether the string whose quotes are at `start` and `end` is `key`. */
function isKey(text: string, start: number, end: number, key: string): boolean {
  return end - start - 1 === key.length && text.startsWith(key, start + 1);
}

/** The position of the quote that closes the string opened at `start`, or -1. Char by char: most strings are short, and an indexOf call costs more than their characters. */
function stringEnd(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) return at;
    if (c === BACKSLASH) at++;
  }
  return -1;
}

/** The string types of a record's events, the record parsed. */
function eventTypesParsed(entry: Pick<NewEntry, 'id' | 'canonical'>): string[] {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(entry.canonical) as Envelope;
  } catch (err) {
    throw new StoreError(`the canonical envelope of record ${entry.id} is not JSON (${(err as Error).message})`, { cause: err });
  }
  const events: unknown = envelope.events;
  if (!Array.isArray(events)) return [];
  return events.flatMap((event: unknown) => {
    const type = event !== null && typeof event === 'object' ? (event as { type?: unknown }).type : undefined;
    return typeof type === 'string' ? [type] : [];
  });
}

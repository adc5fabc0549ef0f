import { chmodSync, cpSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsync } from '../cli/test-support/cli.js';
import { loadConfig } from '../config/load.js';
import { verifyProof } from '../log/proof.js';
import { timelineOf } from '../record/call-events.js';
import { canonicalJson } from '../record/canonical.js';
import type { Envelope, JsonValue, LoggedRecord, TimelineEntry } from '../record/types.js';
import type { LedgerReader } from './ledger.js';
import { openLedger } from './open-ledger.js';
import { searchAll, tempDir } from './test-support/fixtures.js';
import { FIXTURE_DIR, generate, requestIdOf, traceIdOf } from './test-support/make-format-fixture.js';
import { FORMAT_V1_EVENT_TYPES } from './test-support/format-v1-facts.js';

/*
 * Issue 19, "What it must show": the fixture's traffic (make-format-fixture.ts, CALLS: 17 calls
 * through the real gateway, every event type it emitted) run again through this version's gateway,
 * with the fixture's configuration and keys, into a new ledger per store. Format 2 writes a call's
 * own events inside its llm.call record; read back, each call must show the timeline the fixture
 * (format 1, one record per event) shows, entry for entry, with the same facts, found by the same
 * queries (library and CLI) and covered by the call's proof.
 */

const STORES = ['sqlite', 'jsonl'] as const;
type StoreName = (typeof STORES)[number];
const CALLS = Array.from({ length: 17 }, (_, i) => i + 1);

/** What an entry of a timeline is: its event type, else its kind. */
const label = (entry: LoggedRecord) => entry.envelope.eventType ?? entry.envelope.kind;

/** Records each call took: [format 1, the fixture; format 2, this version]. */
const RECORDS_PER_CALL: Record<string, [v1: number, v2: number]> = {
  'fx-01': [13, 1],
  'fx-02': [13, 1],
  'fx-03': [13, 1],
  'fx-04': [13, 1],
  'fx-05': [13, 1],
  'fx-06': [13, 1],
  'fx-07': [9, 1], // blocked at the request checkpoint
  // Held for review at the request checkpoint: its 8 events up to review_created are committed
  // before the review waits, review_decided is the reviewer's, then the llm.call carries the rest.
  'fx-08': [16, 10],
  'fx-09': [15, 1], // fallback
  'fx-10': [11, 1], // routing failed
  'fx-11': [11, 1], // upstream 500
  'fx-12': [13, 1],
  'fx-13': [14, 1], // blocked at the response checkpoint
  'fx-14': [1, 1], // GET /v1/models: one models_listed event record in both formats
  // Held for review at the response checkpoint: the 13 events before it are records of their
  // own, and review_decided; only request_completed travels in the llm.call.
  'fx-15': [16, 15],
  // Async review: 8 event records, the llm.call (answered 202), the later review_decided.
  'fx-16': [11, 10],
  'fx-17': [14, 1], // sent again with its approved review's id
};

/** Every event type in the fixture, with the number of events of that type. */
const EVENT_TYPES = FORMAT_V1_EVENT_TYPES;

/**
 * The calls whose timeline and records are also read through the CLI (each run of the CLI takes a
 * second): a block, reviews held at either checkpoint, an async review decided later.
 */
const CLI_CALLS = [7, 8, 15, 16];

/**
 * The event types also searched through the CLI: every one on SQLite; on JSONL one of each way a
 * type is found (the CLI hands the filter to the same search, checked for every type on both stores
 * above): routine types carried and in records of their own, notable types carried, and types only
 * in records of their own.
 */
const CLI_EVENT_TYPES: Record<StoreName, string[]> = {
  sqlite: Object.keys(EVENT_TYPES),
  jsonl: ['request_received', 'policy_evaluated', 'request_blocked', 'routing_attempt_failed', 'review_decided', 'models_listed'],
};

const USERS: Record<StoreName, string[]> = {
  sqlite: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'mallory', 'oscar', 'auditor-ann'],
  jsonl: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'mallory', 'oscar'],
};

/** Replaces, at any depth of `value`, the value of each key in `replace` by what it returns. */
function replaced(value: JsonValue, replace: Record<string, (v: JsonValue) => JsonValue>): JsonValue {
  if (Array.isArray(value)) return value.map((item) => replaced(item, replace));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, key in replace ? replace[key]!(v) : replaced(v, replace)]));
}

/**
 * What an entry states that two runs of the same traffic must state alike: its whole envelope but
 * for the few fields below (component, status, HTTP status, provider, model, endpoint, key hash and
 * prefix, user, tenant, session, trace and request ids, tokens, cost, safety, digests, capture,
 * errors and metadata are all compared). `reviews` names each review id by the request it reviewed.
 */
function facts(entry: TimelineEntry, reviews: ReadonlyMap<string, string>): Record<string, unknown> {
  const {
    id, // a new UUIDv7 for every record; a carried event shows its record's
    ts, // the run's wall-clock time
    v, // 1 in the fixture, 2 now: the change itself
    latencyMs, // measured: only whether it is stated is compared
    ttftMs, // measured, as latencyMs
    events, // format 2 only: the events a record carries, each compared as its own timeline entry
    metadata,
    ...rest
  } = entry.envelope;
  void [id, ts, v, events];
  const out: Record<string, unknown> = { ...rest, latencyMs: typeof latencyMs, ttftMs: typeof ttftMs };
  if (metadata !== undefined) {
    out.metadata = replaced(metadata, {
      // Made up by the simulated upstream from its clock: only whether it is stated is compared.
      upstreamRequestId: (value) => typeof value,
      // A review's id is its review_created record's (a new UUIDv7): compared as the request it reviewed.
      reviewId: (value) => reviews.get(value as string) ?? `unknown review ${String(value)}`,
    });
  }
  return out;
}

/** Each review id in the traces (its review_created record's id), named by the request it reviewed. */
function reviewsIn(traces: Iterable<TimelineEntry[]>): Map<string, string> {
  const reviews = new Map<string, string>();
  for (const trace of traces)
    for (const entry of trace) if (label(entry) === 'review_created') reviews.set(entry.envelope.id, `review of ${entry.envelope.requestId}`);
  return reviews;
}

/** The records a timeline's entries stand in, once each, in log order. */
const recordIndices = (entries: readonly LoggedRecord[]) => [...new Set(entries.map((e) => e.index))].sort((a, b) => a - b);
const newestFirst = (indices: readonly number[]) => [...indices].sort((a, b) => b - a);

function openReader(dir: string, store: StoreName): Promise<LedgerReader> {
  const config = loadConfig({ path: join(dir, store, 'llm-ledger.yaml'), env: {} });
  return openLedger(config, { env: {}, readOnly: true, onWarning: () => undefined });
}

/** A directory holding the fixture's keys (mode 0600, which git does not keep), and `extra` of the fixture. */
function withKeys(prefix: string, extra: string[] = []): string {
  const dir = tempDir(prefix);
  for (const part of ['keys', ...extra]) cpSync(join(FIXTURE_DIR, part), join(dir, part), { recursive: true });
  for (const key of readdirSync(join(dir, 'keys'))) chmodSync(join(dir, 'keys', key), 0o600);
  return dir;
}

/** Runs the built CLI against a ledger directory, a few at a time; its JSON output. */
async function cliJson<T>(dir: string, commands: string[][]): Promise<T[]> {
  const results: T[] = Array<T>(commands.length);
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const i = next++;
      const { code, stdout, stderr } = await runAsync(dir, commands[i]!);
      if (code !== 0) throw new Error(`llm-ledger ${commands[i]!.join(' ')} exited ${code}: ${stderr}`);
      results[i] = JSON.parse(stdout) as T;
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() + 1 }, worker));
  return results;
}

describe.each(STORES)('the fixture traffic written in format 2 (%s)', (store) => {
  /** The fixture (format 1), on a copy. */
  let v1: LedgerReader;
  /** The same traffic through this version's gateway. */
  let v2: LedgerReader;
  let v2Dir: string;
  const v1Traces = new Map<number, TimelineEntry[]>();
  const v2Traces = new Map<number, TimelineEntry[]>();
  let v1Reviews: Map<string, string>;
  let v2Reviews: Map<string, string>;

  beforeAll(async () => {
    const fixture = withKeys('llm-ledger-format-v1-', [store]);
    const root = withKeys('llm-ledger-format-v2-');
    v2Dir = join(root, store);
    const log = await generate(store, v2Dir);
    expect(log.filter((line) => line.includes(' warning: '))).toEqual([]);
    [v1, v2] = await Promise.all([openReader(fixture, store), openReader(root, store)]);
    for (const n of CALLS) {
      v1Traces.set(n, await v1.trace(traceIdOf(n)));
      v2Traces.set(n, await v2.trace(traceIdOf(n)));
    }
    v1Reviews = reviewsIn(v1Traces.values());
    v2Reviews = reviewsIn(v2Traces.values());
  }, 30_000);
  afterAll(async () => {
    await v1?.close();
    await v2?.close();
  });

  it('verifies, every record in format 2', async () => {
    expect(await v2.verify()).toMatchObject({ ok: true, problems: [] });
    for await (const batch of v2.records()) expect(batch.filter((r) => r.envelope.v !== 2)).toEqual([]);
  });

  it("shows each call's timeline with the fixture's entries in the fixture's order", () => {
    for (const n of CALLS) {
      expect(v2Traces.get(n)!.map(label), requestIdOf(n)).toEqual(v1Traces.get(n)!.map(label));
    }
  });

  it('states the same facts in every entry, but for ids, times, the version, durations and ids made up by the run', () => {
    expect([...v2Reviews.values()]).toEqual(['review of fx-08', 'review of fx-15', 'review of fx-16']);
    expect([...v1Reviews.values()]).toEqual([...v2Reviews.values()]);
    for (const n of CALLS) {
      const before = v1Traces.get(n)!;
      const now = v2Traces.get(n)!;
      expect(now.length, requestIdOf(n)).toBe(before.length);
      for (const [i, entry] of now.entries()) {
        expect(facts(entry, v2Reviews), `${requestIdOf(n)} #${i} ${label(entry)}`).toEqual(facts(before[i]!, v1Reviews));
      }
    }
  });

  it('writes one record a call, and the records of its review when one waited', () => {
    const records = Object.fromEntries(CALLS.map((n) => [requestIdOf(n), [recordIndices(v1Traces.get(n)!).length, recordIndices(v2Traces.get(n)!).length]]));
    expect(records).toEqual(RECORDS_PER_CALL);
    // Each carried event stands in its llm.call record, in the record's order.
    for (const n of CALLS) {
      const carried = v2Traces.get(n)!.filter((entry) => entry.event !== undefined);
      for (const entry of carried) expect(v2Traces.get(n)!.find((r) => r.index === entry.index && r.event === undefined)!.envelope.kind).toBe('llm.call');
      const byRecord = Map.groupBy(carried, (entry) => entry.index);
      for (const entries of byRecord.values()) expect(entries.map((e) => e.event).sort((a, b) => a! - b!)).toEqual(entries.map((_, i) => i));
    }
  });

  it('finds every event type by search --event-type: exactly the records whose timeline has it, library and CLI', async () => {
    const entries = [...v2Traces.values()].flat();
    const types = Object.keys(EVENT_TYPES);
    expect(new Set(entries.map(label))).toEqual(new Set([...types, 'llm.call']));
    const found = new Map<string, LoggedRecord[]>();
    for (const type of types) {
      const having = entries.filter((entry) => label(entry) === type);
      expect(having.length, `${type}: events`).toBe(EVENT_TYPES[type]);
      found.set(type, await searchAll(v2, { eventType: type }));
      expect(
        found.get(type)!.map((r) => r.index),
        type,
      ).toEqual(newestFirst(recordIndices(having)));
    }
    const cli = await cliJson<{ records: LoggedRecord[]; nextCursor?: string }>(
      v2Dir,
      CLI_EVENT_TYPES[store].map((type) => ['search', '--event-type', type, '--limit', '1000', '--json']),
    );
    for (const [i, type] of CLI_EVENT_TYPES[store].entries()) {
      expect(
        cli[i]!.records.map((r) => r.envelope.id),
        `CLI ${type}`,
      ).toEqual(found.get(type)!.map((r) => r.envelope.id));
      expect(cli[i]!.nextCursor).toBeUndefined();
    }
    expect(await searchAll(v2, { eventType: 'no_such_event' })).toEqual([]);
  });

  it('gives all of one request by trace id and by request id: library, trace --json, show --request-id --json', async () => {
    for (const n of CALLS) {
      const records = recordIndices(v2Traces.get(n)!);
      expect((await searchAll(v2, { traceId: traceIdOf(n) })).map((r) => r.index)).toEqual(newestFirst(records));
      const byRequest = (await searchAll(v2, { requestId: requestIdOf(n) })).reverse();
      expect(byRequest.map((r) => r.index)).toEqual(records);
      expect(timelineOf(byRequest).map(label), requestIdOf(n)).toEqual(v1Traces.get(n)!.map(label));
    }
    const traces = await cliJson<TimelineEntry[]>(
      v2Dir,
      CLI_CALLS.map((n) => ['trace', traceIdOf(n), '--json']),
    );
    const shown = await cliJson<LoggedRecord[]>(
      v2Dir,
      CLI_CALLS.map((n) => ['show', '--request-id', requestIdOf(n), '--json']),
    );
    for (const [i, n] of CLI_CALLS.entries()) {
      expect(traces[i], `trace ${requestIdOf(n)}`).toEqual(v2Traces.get(n));
      // show --request-id lists the records, in log order, carrying their events.
      expect(
        shown[i]!.map((r) => r.index),
        `show ${requestIdOf(n)}`,
      ).toEqual(recordIndices(v2Traces.get(n)!));
      expect(timelineOf(shown[i]!).map(label), `show ${requestIdOf(n)}`).toEqual(v1Traces.get(n)!.map(label));
    }
  });

  it('finds policy violations by event type: the blocked requests, with the policy that blocked them', async () => {
    const violation = async (ledger: LedgerReader, type: string) =>
      (await searchAll(ledger, { eventType: type })).flatMap((record) =>
        timelineOf([record])
          .filter((entry) => label(entry) === type)
          .map((entry) => [entry.envelope.requestId, entry.envelope.user, entry.envelope.metadata?.policy, entry.envelope.status]),
      );
    expect(await violation(v2, 'request_blocked')).toEqual([['fx-07', 'dave', 'approved-models', 'blocked']]);
    expect(await violation(v2, 'response_blocked')).toEqual([['fx-13', 'mallory', 'answer-hold', 'blocked']]);
    for (const type of ['request_blocked', 'response_blocked', 'request_escalated', 'response_escalated', 'routing_attempt_failed', 'routing_failed']) {
      expect(await violation(v2, type), type).toEqual(await violation(v1, type));
    }
    const requestsOf = async (ledger: LedgerReader) => [...new Set((await searchAll(ledger, { status: 'blocked' })).map((r) => r.envelope.requestId))].sort();
    expect(await requestsOf(v2)).toEqual(['fx-07', 'fx-13']);
    expect(await requestsOf(v2)).toEqual(await requestsOf(v1));
  });

  it("finds a user's records: the same timeline as the fixture's, library and CLI", async () => {
    // A record of the library's own (erasure, content_accessed) has a request id of its own.
    const request = (entry: LoggedRecord) => (entry.envelope.requestId.startsWith('fx-') ? entry.envelope.requestId : entry.envelope.kind);
    for (const user of USERS[store]) {
      const before = (await searchAll(v1, { user })).reverse();
      const now = (await searchAll(v2, { user })).reverse();
      expect(now.every((r) => r.envelope.user === user)).toBe(true);
      expect(timelineOf(now).map(label), user).toEqual(before.map(label));
      expect(timelineOf(now).map(request), user).toEqual(before.map(request));
    }
    const [cli] = await cliJson<{ records: LoggedRecord[] }>(v2Dir, [['search', '--user', 'frank', '--limit', '1000', '--json']]);
    expect(cli!.records.map((r) => r.envelope.id)).toEqual((await searchAll(v2, { user: 'frank' })).map((r) => r.envelope.id));
  });

  it('finds the records of a time range: from call 5 to call 6, those two calls', async () => {
    const five = v2Traces.get(5)!;
    const six = v2Traces.get(6)!;
    const since = five.map((e) => e.envelope.ts).sort()[0]!;
    const until = new Date(
      Date.parse(
        six
          .map((e) => e.envelope.ts)
          .sort()
          .at(-1)!,
      ) + 1,
    ).toISOString();
    const window = (await searchAll(v2, { since, until })).reverse();
    expect(window.map((r) => r.index)).toEqual(recordIndices([...five, ...six]));
    expect(timelineOf(window).map(label)).toEqual([...v1Traces.get(5)!, ...v1Traces.get(6)!].map(label));
    expect(timelineOf(window).every((e) => e.envelope.ts >= since && e.envelope.ts < until)).toBe(true);
    const { code, stdout } = await runAsync(v2Dir, ['search', '--since', since, '--until', until, '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { records: LoggedRecord[] }).records.map((r) => r.index)).toEqual(newestFirst(window.map((r) => r.index)));
  });

  it("proves each call's records, the events they carry with them: an edited event fails the proof", async () => {
    const key = v2.verifierKey;
    for (const n of CALLS) {
      for (const index of recordIndices(v2Traces.get(n)!)) {
        const record = v2Traces.get(n)!.find((entry) => entry.index === index && entry.event === undefined)!;
        const bundle = await v2.prove(record.envelope.id);
        const where = `${requestIdOf(n)} ${label(record)} @${index}`;
        expect(verifyProof(bundle, { trustedVerifierKey: key }), where).toMatchObject({ ok: true, id: record.envelope.id, index, trustedKey: true });
        const proven = JSON.parse(bundle.envelope) as Envelope;
        expect(proven, where).toEqual(record.envelope);
        if (proven.events === undefined) continue;
        // The timeline's entries for this record are read back from the proven envelope alone.
        expect(timelineOf([{ index, envelope: proven }]), where).toEqual(v2Traces.get(n)!.filter((entry) => entry.index === index));
        const edits: [string, (events: NonNullable<Envelope['events']>) => void][] = [
          ['a fact of an event changed', (events) => (events[0]!.metadata = { ...events[0]!.metadata, edited: true })],
          ['an event retyped', (events) => (events[0]!.type = 'request_blocked')],
          ['an event left out', (events) => events.splice(0, 1)],
          ['an event moved in time', (events) => (events.at(-1)!.at += 1)],
        ];
        for (const [what, edit] of edits) {
          const edited = structuredClone(proven);
          edit(edited.events!);
          expect(verifyProof({ ...bundle, envelope: canonicalJson(edited) }, { trustedVerifierKey: key }), `${where}: ${what}`).toMatchObject({ ok: false });
        }
      }
    }
  });
});

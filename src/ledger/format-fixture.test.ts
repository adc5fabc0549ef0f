import { createHash } from 'node:crypto';
import { chmodSync, cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { verifyProof } from '../log/proof.js';
import type { LoggedRecord } from '../record/types.js';
import type { Ledger, LedgerReader } from './ledger.js';
import { openLedger } from './open-ledger.js';
import { searchAll, tempDir } from './test-support/fixtures.js';
import { FORMAT_V1_EVENT_TYPES } from './test-support/format-v1-facts.js';

/*
 * A ledger written by format v1 (one record per event: each call's request_received,
 * routing_*, policy_*, the llm.call, request_completed, ... as records of their own), committed in
 * test-support/fixtures/format-v1/ (see its README.md; written by
 * test-support/make-format-fixture.ts through the real gateway). Later versions must open it,
 * verify it, prove its records and answer the same queries with the same answers: the counts,
 * event types and timelines below are the specification, written out as literals. Never change
 * them to fit a new format, and never regenerate the fixture after a format change.
 *
 * Each test works on a copy in a temporary directory: the committed files are never opened
 * where they are (a writable open would upgrade or append to them), and the last test checks
 * they are byte for byte as they were.
 */

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'test-support', 'fixtures', 'format-v1');
const STORES = ['sqlite', 'jsonl'] as const;
type StoreName = (typeof STORES)[number];

const traceIdOf = (n: number) => `f1c7${n.toString(16).padStart(28, '0')}`;
const requestIdOf = (n: number) => `fx-${String(n).padStart(2, '0')}`;
const CALLS = Array.from({ length: 17 }, (_, i) => i + 1);

/** What each record of a timeline is: its event type, else its kind. */
const label = (r: LoggedRecord) => r.envelope.eventType ?? r.envelope.kind;

const FILES_BEFORE = fileDigests(FIXTURE);

function fileDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A private copy of the fixture; key files get the owner-only mode git does not keep. */
function copyFixture(): string {
  const dir = tempDir('llm-ledger-format-v1-');
  cpSync(FIXTURE, dir, { recursive: true });
  for (const key of readdirSync(join(dir, 'keys'))) chmodSync(join(dir, 'keys', key), 0o600);
  return dir;
}

function open(dir: string, store: StoreName, readOnly: true): Promise<LedgerReader>;
function open(dir: string, store: StoreName, readOnly: false): Promise<Ledger>;
function open(dir: string, store: StoreName, readOnly: boolean): Promise<LedgerReader> {
  const config = loadConfig({ path: join(dir, store, 'llm-ledger.yaml'), env: {} });
  return openLedger(config, { env: {}, readOnly, onWarning: () => undefined });
}

async function all(ledger: LedgerReader): Promise<LoggedRecord[]> {
  const out: LoggedRecord[] = [];
  for await (const batch of ledger.records()) out.push(...batch);
  return out;
}

function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

// ---- The specification: format v1 as the fixture holds it. ----

/** Records in each store: SQLite has three more, which JSONL cannot write (no content store): a reveal, an erasure, a retention pass. */
const SIZE: Record<StoreName, number> = { sqlite: 212, jsonl: 209 };

const GATEWAY_KINDS = { event: 193, 'llm.call': 16 };
const KINDS: Record<StoreName, Record<string, number>> = {
  sqlite: { ...GATEWAY_KINDS, content_accessed: 1, erasure: 1, retention: 1 },
  jsonl: GATEWAY_KINDS,
};

const EVENT_TYPES: Record<StoreName, Readonly<Record<string, number>>> = { sqlite: FORMAT_V1_EVENT_TYPES, jsonl: FORMAT_V1_EVENT_TYPES };

/** Records whose status is `blocked`, by event type or kind. */
const BLOCKED_RECORDS = { request_blocked: 1, response_blocked: 1, 'llm.call': 2, request_completed: 2 };
const BLOCKED: Record<StoreName, Record<string, number>> = { sqlite: BLOCKED_RECORDS, jsonl: BLOCKED_RECORDS };

/** Records per user, by kind (the actor of a reveal is its record's user). */
const GATEWAY_USERS = {
  alice: { event: 38, 'llm.call': 3 },
  bob: { event: 34, 'llm.call': 3 },
  carol: { event: 34, 'llm.call': 3 },
  dave: { event: 20, 'llm.call': 2 },
  erin: { event: 16, 'llm.call': 1 },
  frank: { event: 23, 'llm.call': 2 },
  mallory: { event: 13, 'llm.call': 1 },
  oscar: { event: 15, 'llm.call': 1 },
};
const USERS: Record<StoreName, Record<string, Record<string, number>>> = {
  sqlite: { ...GATEWAY_USERS, bob: { ...GATEWAY_USERS.bob, erasure: 1 }, 'auditor-ann': { content_accessed: 1 } },
  jsonl: GATEWAY_USERS,
};
const USER_CALLS: Record<string, string[]> = {
  alice: ['fx-01', 'fx-02', 'fx-09'],
  bob: ['fx-03', 'fx-04', 'fx-10'],
  carol: ['fx-05', 'fx-06', 'fx-11'],
  dave: ['fx-07', 'fx-12'],
  erin: ['fx-08'],
  frank: ['fx-16', 'fx-17'],
  mallory: ['fx-13'],
  oscar: ['fx-15'],
  'auditor-ann': [],
};

/** approved-models, codenames, projects. */
const REQUEST_CHECKPOINT = ['policy_evaluation_start', 'policy_evaluated', 'policy_evaluated', 'policy_evaluated', 'policy_evaluation_complete'];
/** answer-hold. */
const RESPONSE_CHECKPOINT = ['policy_evaluation_start', 'policy_evaluated', 'policy_evaluation_complete'];
const ANSWERED = ['request_received', ...REQUEST_CHECKPOINT, 'routing_start', 'routing_success', ...RESPONSE_CHECKPOINT, 'llm.call', 'request_completed'];

/** Each request's records, in log order: `trace` shows them so, event types and the call's kind. */
const TIMELINE: Record<string, string[]> = {
  'fx-01': ANSWERED, // OpenAI chat
  'fx-02': ANSWERED, // OpenAI chat, streamed
  'fx-03': ANSWERED, // Anthropic messages
  'fx-04': ANSWERED, // Anthropic messages, streamed
  'fx-05': ANSWERED, // OpenAI chat, hash-only capture asked by the client
  'fx-06': ANSWERED, // Anthropic messages streamed, hash-only
  // Blocked by the models policy (o3).
  'fx-07': ['request_received', ...REQUEST_CHECKPOINT, 'request_blocked', 'llm.call', 'request_completed'],
  // Escalated (Project Falcon), held, approved through the review API.
  'fx-08': [
    'request_received',
    ...REQUEST_CHECKPOINT,
    'request_escalated',
    'review_created',
    'review_decided',
    'routing_start',
    'routing_success',
    ...RESPONSE_CHECKPOINT,
    'llm.call',
    'request_completed',
  ],
  // gpt-4.1: the dead provider fails, the fallback answers.
  'fx-09': [
    'request_received',
    ...REQUEST_CHECKPOINT,
    'routing_start',
    'routing_attempt_failed',
    'routing_fallback',
    'routing_success',
    ...RESPONSE_CHECKPOINT,
    'llm.call',
    'request_completed',
  ],
  // gpt-4o-mini: its only provider is dead (502).
  'fx-10': ['request_received', ...REQUEST_CHECKPOINT, 'routing_start', 'routing_attempt_failed', 'routing_failed', 'llm.call', 'request_completed'],
  // The upstream answers 500.
  'fx-11': ['request_received', ...REQUEST_CHECKPOINT, 'routing_start', 'routing_attempt_failed', 'routing_failed', 'llm.call', 'request_completed'],
  'fx-12': ANSWERED, // OpenAI Responses API, streamed
  // The answer is blocked at the response checkpoint (answer-hold, a policy given in code).
  'fx-13': [
    'request_received',
    ...REQUEST_CHECKPOINT,
    'routing_start',
    'routing_success',
    ...RESPONSE_CHECKPOINT,
    'response_blocked',
    'llm.call',
    'request_completed',
  ],
  'fx-14': ['models_listed'], // GET /v1/models
  // The answer is held for review at the response checkpoint (answer-hold), approved through the review API.
  'fx-15': [
    'request_received',
    ...REQUEST_CHECKPOINT,
    'routing_start',
    'routing_success',
    ...RESPONSE_CHECKPOINT,
    'response_escalated',
    'review_created',
    'review_decided',
    'llm.call',
    'request_completed',
  ],
  // Escalated by projects (async): answered 202 at once; the review is decided after the call's records.
  'fx-16': ['request_received', ...REQUEST_CHECKPOINT, 'request_escalated', 'review_created', 'llm.call', 'request_completed', 'review_decided'],
  // fx-16's request sent again with its approved review's id.
  'fx-17': [
    'request_received',
    ...REQUEST_CHECKPOINT,
    'review_applied',
    'routing_start',
    'routing_success',
    ...RESPONSE_CHECKPOINT,
    'llm.call',
    'request_completed',
  ],
};
const TIMELINES: Record<StoreName, Record<string, string[]>> = { sqlite: TIMELINE, jsonl: TIMELINE };

/** The calls (`llm.call` records) and how each ended: request id, provider, model, status, HTTP status. */
const CALL_OUTCOMES = [
  ['fx-01', 'openai', 'gpt-4o', 'success', 200],
  ['fx-02', 'openai', 'gpt-4o', 'success', 200],
  ['fx-03', 'anthropic', 'claude-sonnet-4-6', 'success', 200],
  ['fx-04', 'anthropic', 'claude-sonnet-4-6', 'success', 200],
  ['fx-05', 'openai', 'gpt-4o', 'success', 200],
  ['fx-06', 'anthropic', 'claude-sonnet-4-6', 'success', 200],
  ['fx-07', 'openai', 'o3', 'blocked', 403],
  ['fx-08', 'openai', 'gpt-4o', 'success', 200],
  ['fx-09', 'openai', 'gpt-4.1', 'success', 200],
  ['fx-10', 'dead', 'gpt-4o-mini', 'error', 502],
  ['fx-11', 'openai', 'gpt-4o', 'error', 500],
  ['fx-12', 'openai', 'gpt-4o', 'success', 200],
  ['fx-13', 'openai', 'gpt-4o', 'blocked', 403],
  ['fx-15', 'openai', 'gpt-4o', 'success', 200],
  ['fx-16', 'openai', 'gpt-4o', 'escalated', 202],
  ['fx-17', 'openai', 'gpt-4o', 'success', 200],
];

describe.each(STORES)('the format-v1 fixture (%s)', (store) => {
  let dir: string;
  let reader: LedgerReader;
  let records: LoggedRecord[];
  beforeAll(async () => {
    dir = copyFixture();
    reader = await open(dir, store, true);
    records = await all(reader);
  });
  afterAll(() => reader?.close());

  it('opens read-only and verifies', async () => {
    const report = await reader.verify();
    expect(report).toMatchObject({ ok: true, problems: [], size: SIZE[store], verifiedSize: SIZE[store], prunedBelow: 0, firstBadIndex: null });
    expect(report.anchoredCheckpointsChecked).toBeGreaterThan(0);
    expect(await reader.size()).toBe(SIZE[store]);
  });

  it('holds the records it was written with, per kind and per event type', () => {
    expect(records.map((r) => r.index)).toEqual(Array.from({ length: SIZE[store] }, (_, i) => i));
    expect(countBy(records, (r) => r.envelope.kind)).toEqual(KINDS[store]);
    expect(countBy(records, (r) => r.envelope.eventType)).toEqual(EVENT_TYPES[store]);
    expect(records.every((r) => r.envelope.v === 1)).toBe(true);
    const calls = records.filter((r) => r.envelope.kind === 'llm.call');
    expect(calls.map((r) => [r.envelope.requestId, r.envelope.provider, r.envelope.model, r.envelope.status, r.envelope.httpStatus])).toEqual(CALL_OUTCOMES);
  });

  it('states the reveal, the erasure and the retention pass (SQLite only)', () => {
    const own = records.filter((r) => ['content_accessed', 'erasure', 'retention'].includes(r.envelope.kind));
    if (store === 'jsonl') return expect(own).toEqual([]);
    expect(own.map((r) => [r.index, r.envelope.kind, r.envelope.user])).toEqual([
      [209, 'content_accessed', 'auditor-ann'],
      [210, 'erasure', 'bob'],
      [211, 'retention', undefined],
    ]);
    expect(own[0]!.envelope.metadata).toMatchObject({ requestId: 'fx-02', reason: 'format fixture: incident review' });
    expect(own[1]!.envelope.metadata).toEqual({ subject: 'user:bob', keysDestroyed: 1, contentDeleted: 3 });
    expect(own[2]!.envelope.metadata).toMatchObject({ content: { deleted: 2 } });
  });

  it('finds every event type by search --event-type', async () => {
    for (const [eventType, count] of Object.entries(EVENT_TYPES[store])) {
      const found = await searchAll(reader, { eventType });
      expect(found.map(label), eventType).toEqual(Array<string>(count).fill(eventType));
      expect((await searchAll(reader, { kind: 'event', eventType })).length, eventType).toBe(count);
    }
    expect(await searchAll(reader, { eventType: 'no_such_event' })).toEqual([]);
  });

  it('finds every kind by search --kind', async () => {
    for (const [kind, count] of Object.entries(KINDS[store])) {
      expect((await searchAll(reader, { kind: kind as LoggedRecord['envelope']['kind'] })).length, kind).toBe(count);
    }
  });

  it('gives each call its timeline by trace id, in log order, and the same records by request id', async () => {
    for (const n of CALLS) {
      const trace = await reader.trace(traceIdOf(n));
      expect(trace.map(label), requestIdOf(n)).toEqual(TIMELINES[store][requestIdOf(n)]);
      expect(trace.map((r) => r.index)).toEqual(trace.map((r) => r.index).sort((a, b) => a - b));
      expect(trace.every((r) => r.envelope.traceId === traceIdOf(n) && r.envelope.requestId === requestIdOf(n))).toBe(true);
      // search: newest first; the same records as the trace.
      const byRequest = await searchAll(reader, { requestId: requestIdOf(n) });
      expect(byRequest.map((r) => r.index)).toEqual(trace.map((r) => r.index).reverse());
      const byTrace = await searchAll(reader, { traceId: traceIdOf(n) });
      expect(byTrace.map((r) => r.index)).toEqual(trace.map((r) => r.index).reverse());
    }
  });

  it('answers the seed queries: policy violations by event type, by user, by time range', async () => {
    const blocked = await searchAll(reader, { eventType: 'request_blocked' });
    expect(blocked.map((r) => [r.envelope.requestId, r.envelope.user, r.envelope.metadata?.policy])).toEqual([['fx-07', 'dave', 'approved-models']]);
    const responseBlocked = await searchAll(reader, { eventType: 'response_blocked' });
    expect(responseBlocked.map((r) => [r.envelope.requestId, r.envelope.user, r.envelope.metadata?.policy])).toEqual([['fx-13', 'mallory', 'answer-hold']]);
    const decided = await searchAll(reader, { eventType: 'review_decided' });
    expect(decided.map((r) => [r.envelope.requestId, r.envelope.metadata?.decision, r.envelope.metadata?.reviewer])).toEqual([
      ['fx-16', 'approved', 'rita'],
      ['fx-15', 'approved', 'rita'],
      ['fx-08', 'approved', 'rita'],
    ]);
    const failed = await searchAll(reader, { eventType: 'routing_attempt_failed' });
    expect(failed.map((r) => [r.envelope.requestId, r.envelope.provider])).toEqual([
      ['fx-11', 'openai'],
      ['fx-10', 'dead'],
      ['fx-09', 'dead'],
    ]);
    const violations = await searchAll(reader, { status: 'blocked' });
    expect(countBy(violations, label)).toEqual(BLOCKED[store]);

    for (const [user, counts] of Object.entries(USERS[store])) {
      const found = await searchAll(reader, { user });
      expect(found.every((r) => r.envelope.user === user)).toBe(true);
      expect(
        countBy(found, (r) => r.envelope.kind),
        user,
      ).toEqual(counts);
      expect((await searchAll(reader, { user, kind: 'llm.call' })).map((r) => r.envelope.requestId).sort(), user).toEqual(USER_CALLS[user]);
    }

    // From call 5's first record to call 6's last (until is exclusive): exactly those two calls' records.
    const five = await reader.trace(traceIdOf(5));
    const six = await reader.trace(traceIdOf(6));
    const since = five.map((r) => r.envelope.ts).sort()[0]!;
    const until = new Date(
      Date.parse(
        six
          .map((r) => r.envelope.ts)
          .sort()
          .at(-1)!,
      ) + 1,
    ).toISOString();
    const window = await searchAll(reader, { since, until });
    expect(window.every((r) => r.envelope.ts >= since && r.envelope.ts < until)).toBe(true);
    expect([...new Set(window.map((r) => r.envelope.requestId))].sort()).toEqual(['fx-05', 'fx-06']);
    expect(window.length).toBe(five.length + six.length);
    const calls = await searchAll(reader, { since, until, kind: 'llm.call' });
    expect(calls.map((r) => r.envelope.requestId)).toEqual(['fx-06', 'fx-05']);
  });

  it('proves its records with proofs that verifyProof accepts', async () => {
    const key = reader.verifierKey;
    for (const record of records.filter((r) => r.envelope.kind === 'llm.call' || r.envelope.requestId === 'fx-08')) {
      const bundle = await reader.prove(record.envelope.id);
      expect(verifyProof(bundle, { trustedVerifierKey: key }), `${record.index}`).toMatchObject({
        ok: true,
        id: record.envelope.id,
        index: record.index,
        trustedKey: true,
      });
      expect(JSON.parse(bundle.envelope)).toEqual(record.envelope);
    }
  });

  it('opens writable, appends a record, and still verifies', async () => {
    const copy = copyFixture();
    const ledger = await open(copy, store, false);
    try {
      const receipt = await ledger.record({ kind: 'event', eventType: 'format_fixture_reopened', component: 'test', user: 'alice' });
      expect(receipt.index).toBe(SIZE[store]);
      expect(await ledger.verify()).toMatchObject({ ok: true, size: SIZE[store] + 1, problems: [] });
      expect((await ledger.search({ user: 'alice', limit: 1 })).records[0]!.envelope.eventType).toBe('format_fixture_reopened');
      const bundle = await ledger.prove(receipt.id);
      expect(verifyProof(bundle, { trustedVerifierKey: ledger.verifierKey })).toMatchObject({ ok: true, index: SIZE[store] });
      // A call written before is still proven against the newer checkpoint.
      const [call] = (await ledger.search({ requestId: 'fx-01', kind: 'llm.call' })).records;
      expect(verifyProof(await ledger.prove(call!.envelope.id), { trustedVerifierKey: ledger.verifierKey })).toMatchObject({
        ok: true,
        treeSize: SIZE[store] + 1,
      });
    } finally {
      await ledger.close();
    }
    const reopened = await open(copy, store, true);
    try {
      expect(await reopened.verify()).toMatchObject({ ok: true, size: SIZE[store] + 1 });
    } finally {
      await reopened.close();
    }
  });
});

describe('the format-v1 fixture (sqlite): content written by v1', () => {
  it('still decrypts what was kept, and not what was erased, expired or never kept', async () => {
    const ledger = await open(copyFixture(), 'sqlite', false);
    try {
      const contentOf = async (requestId: string) => {
        const [call] = (await ledger.search({ requestId, kind: 'llm.call' })).records;
        return (await ledger.reveal(call!.envelope.id, { actor: 'format-test', reason: 'format fixture' })).content;
      };
      expect(await contentOf('fx-08')).toMatchObject({ input: expect.stringContaining('Falcon') });
      expect(await contentOf('fx-09')).toMatchObject({ input: expect.any(String), output: expect.any(String) });
      expect(await contentOf('fx-01')).toEqual({}); // expired by the retention pass
      expect(await contentOf('fx-03')).toEqual({}); // bob's: erased
      expect(await contentOf('fx-05')).toEqual({}); // hash-only
    } finally {
      await ledger.close();
    }
  });
});

it('leaves the committed fixture as it was', () => {
  expect(fileDigests(FIXTURE)).toEqual(FILES_BEFORE);
});

import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { indexedEventTypes } from '../../record/call-events.js';
import { realisticCall } from '../../record/test-support/realistic-calls.js';
import type { CallEvent, Envelope, RecordInput } from '../../record/types.js';
import { eventIndexColumns, eventTypesInText } from './postgres-event-index.js';
import { ROUTINE_EVENT_TYPES_SQL } from './postgres-schema.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL } from '../test-support/postgres.js';

/** What the index must hold for a record: indexedEventTypes of the parsed envelope. */
const expected = (canonical: string) => indexedEventTypes(JSON.parse(canonical) as Envelope);
const columnsOf = (canonicals: string[]) =>
  eventIndexColumns(
    canonicals.map((canonical, i) => ({ id: `r${i}`, canonical })),
    (_e, position) => position,
  );

/** A gateway call's events: routine ones, policy metadata with a `type` of its own, and now and then notable ones. */
function gatewayEvents(i: number): CallEvent[] {
  const events: CallEvent[] = [
    {
      type: 'request_received',
      at: 0.2,
      component: 'gateway',
      endpoint: '/v1/chat/completions',
      model: 'gpt-4o',
      messageCount: 3,
      metadata: { stream: false },
    },
    { type: 'policy_evaluation_start', at: 0.4, metadata: { checkpoint: 'pre_request', policies: ['pii-guard', 'budget'] } },
    {
      type: 'policy_evaluated',
      at: 0.9,
      latencyMs: 0.4,
      safety: { passed: true },
      metadata: { policy: 'pii-guard', type: 'pii', checkpoint: 'pre_request', outcome: 'ALLOW' },
    },
    {
      type: 'policy_evaluated',
      at: 1.1,
      latencyMs: 0.1,
      safety: { passed: true },
      metadata: { policy: 'budget', type: 'budget', checkpoint: 'pre_request', outcome: 'ALLOW' },
    },
    { type: 'policy_evaluation_complete', at: 1.2, latencyMs: 0.6, metadata: { checkpoint: 'pre_request', outcome: 'ALLOW', policiesEvaluated: 2 } },
    { type: 'routing_start', at: 1.3, model: 'gpt-4o', metadata: { targets: ['openai', 'azure'], maxRetries: 2 } },
  ];
  if (i % 33 === 0) {
    events.push({
      type: 'routing_attempt_failed',
      at: 300,
      provider: 'openai',
      status: 'error',
      httpStatus: 503,
      error: 'HTTP 503',
      metadata: { attempt: 1, next: 'fallback' },
    });
    events.push({ type: 'routing_fallback', at: 301, provider: 'azure', metadata: { from: 'openai', to: 'azure' } });
  }
  events.push({ type: 'routing_success', at: 800, provider: 'openai', latencyMs: 790, httpStatus: 200, metadata: { attempts: 1 } });
  events.push({ type: 'request_completed', at: 805 });
  return events;
}

describe('the call_events rows of a batch, read from the records’ text', () => {
  it('are what indexedEventTypes says of the parsed records, for sealed records of every shape', () => {
    const awkward = 'a "quoted" \\ back\\slash, "events":[{"type":"request_blocked"}] and "type":"x" in text';
    const inputs: RecordInput[] = [
      { model: 'm' },
      { kind: 'event', eventType: 'request_blocked', traceId: 't' },
      { events: [] },
      { events: [{ type: 'request_received', at: 0 }] },
      {
        events: [
          { type: 'request_blocked', at: 1.5, status: 'blocked' },
          { type: 'request_blocked', at: 2 },
          { type: 'request_escalated', at: 3 },
        ],
      },
      { events: [{ type: 'request_received', at: 0, metadata: { type: 'notable-but-nested', events: [{ type: 'deeper' }] } }] },
      {
        events: [
          { type: 'policy_evaluated', at: 0, error: awkward, metadata: { note: awkward, type: awkward } },
          { type: 'routing_fallback', at: 1 },
        ],
        error: awkward,
      },
      {
        events: [
          { type: 'é-type ✓', at: 0 },
          { type: 'quote"d', at: 1 },
          { type: 'back\\slash', at: 2 },
        ],
      },
      { metadata: { events: [{ type: 'not-an-event' }] }, events: [{ type: 'routing_failed', at: 9 }] },
      ...Array.from({ length: 66 }, (_, i) => ({ ...realisticCall(i), events: gatewayEvents(i) })),
    ];
    const canonicals = entriesFor(inputs).map((e) => e.canonical);
    const rows = columnsOf(canonicals);
    const want = canonicals.flatMap((canonical, position) => expected(canonical).map((type) => ({ type, at: position })));
    expect(rows.type.map((type, i) => ({ type, at: rows.at[i] }))).toEqual(want);
    expect(want.map((row) => row.type)).toEqual(
      expect.arrayContaining([
        'request_blocked',
        'request_escalated',
        'routing_fallback',
        'é-type ✓',
        'quote"d',
        'back\\slash',
        'routing_failed',
        'routing_attempt_failed',
      ]),
    );
    expect(want.map((row) => row.type)).not.toEqual(expect.arrayContaining(['notable-but-nested']));
  });

  it('leave to JSON.parse a type the scan does not read plainly, and name a record that is not JSON', () => {
    expect(eventTypesInText('{"events":[{"at":0,"type":"a\\u0062"}],"v":2}')).toBeUndefined();
    expect(eventTypesInText('{"events":[{"at":0,"type":7}],"v":2}')).toBeUndefined();
    expect(eventTypesInText('{"events":{"x":{"type":"a"}},"v":2}')).toBeUndefined();
    expect(columnsOf(['{"events":[{"at":0,"type":"a\\u0062"}],"v":2}']).type).toEqual(['ab']);
    expect(columnsOf(['{"events":[{"at":0,"type":7},"loose",{"type":"c"}],"v":2}']).type).toEqual(['c']);
    expect(() => columnsOf(['{"events":[{"type":"a\\u0062"}'])).toThrow(/the canonical envelope of record r0 is not JSON/);
  });
});

/**
 * What filling call_events costs per batch, each way: `LLM_LEDGER_MEASURE=1 npx vitest run
 * src/store/postgres/postgres-event-index.test.ts`. The writer's JS is timed here; the server's
 * jsonb work on the connection's own backend (its CPU from /proc), the best of nine, so the
 * other clients of a shared server count as little as they can.
 */
describe.runIf(process.env.LLM_LEDGER_MEASURE === '1')('what filling call_events costs per batch of 2,048 realistic records', () => {
  const BATCH = 2048;
  const BATCHES = 10;
  const canonicals = entriesFor(Array.from({ length: BATCH * BATCHES }, (_, i) => ({ ...realisticCall(i), events: gatewayEvents(i) }))).map((e) => e.canonical);
  const batches = Array.from({ length: BATCHES }, (_, b) => canonicals.slice(b * BATCH, (b + 1) * BATCH));
  const report = (label: string, msPerRecord: number) =>
    console.log(`${label}: ${(msPerRecord * BATCH).toFixed(1)} ms a batch, ${(msPerRecord * 1000).toFixed(1)} us a record`);

  it('in the writer: the text scanned, or each record parsed', () => {
    console.log(`${canonicals.length} records of ${Math.round(canonicals.reduce((n, c) => n + c.length, 0) / canonicals.length)} characters on average`);
    const best = (work: (batch: string[]) => unknown) => {
      for (const batch of batches) work(batch);
      let ms = Infinity;
      for (let round = 0; round < 7; round++) {
        const start = performance.now();
        for (const batch of batches) work(batch);
        ms = Math.min(ms, performance.now() - start);
      }
      return ms / canonicals.length;
    };
    report(
      'writer, JSON.parse and indexedEventTypes',
      best((batch) => batch.map(expected)),
    );
    const entries = batches.map((batch) => batch.map((canonical, i) => ({ id: `r${i}`, canonical })));
    let next = 0;
    report(
      'writer, eventIndexColumns (the text scanned)',
      best(() => eventIndexColumns(entries[next++ % BATCHES]!, (_e, position) => position)),
    );
  });

  it('in the server: the jsonb of the records, as the batch statement (or a trigger) would read it', async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const cpuMs = () => {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      };
      await client.query('CREATE TEMP TABLE texts (canonical text)');
      await client.query('INSERT INTO texts SELECT unnest($1::text[])', [canonicals]);
      const parsed = 'SELECT canonical::jsonb AS envelope FROM texts OFFSET 0';
      const queries = {
        parse: `SELECT count(*) FROM (${parsed}) r WHERE r.envelope IS NOT NULL`,
        extract: `SELECT count(*) FROM (${parsed}) r, LATERAL (SELECT DISTINCT e ->> 'type' FROM jsonb_array_elements(r.envelope -> 'events') e
          WHERE NOT (e ->> 'type' = ANY (${ROUTINE_EVENT_TYPES_SQL}))) t`,
      };
      const best = { parse: Infinity, extract: Infinity };
      for (let round = 0; round < 9; round++)
        for (const [name, sql] of Object.entries(queries) as [keyof typeof queries, string][]) {
          const before = cpuMs();
          await client.query(sql);
          best[name] = Math.min(best[name], cpuMs() - before);
        }
      report('server, text to jsonb (what every insert does already)', best.parse / canonicals.length);
      report('server, the indexed types read from that jsonb, on top', (best.extract - best.parse) / canonicals.length);
    } finally {
      await client.end();
    }
  });
});

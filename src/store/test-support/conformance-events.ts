/**
 * The shared suite's part on events carried inside records (envelope version 2, see
 * src/record/call-events.ts): a filter by event type finds every record that is an event of that
 * type (version 1) or carries one, routine or not, newest first, paged, combined with other
 * filters, in search and scan alike; a store that keeps an index of them checks it against the
 * records and names what an edit of it changed.
 */
import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../../record/types.js';
import { matchesFilter } from '../match.js';
import type { SearchFilter } from '../store.js';
import { entriesFor, type SuiteState } from './conformance-fixtures.js';

const call = (user: string, events: string[], extra: Partial<RecordInput> = {}): RecordInput => ({
  kind: 'llm.call',
  model: 'gpt-4o',
  provider: 'openai',
  user,
  status: 'success',
  latencyMs: 40,
  timestamp: '2026-01-02T00:00:00.000Z',
  events: events.map((type, i) => ({ type, at: i * 2, ...(type === 'request_blocked' ? { status: 'blocked' as const, httpStatus: 403 } : {}) })),
  ...extra,
});

/** Version 1 event records and version 2 calls carrying events, mixed as a ledger upgraded in place holds them. */
const MIXED: RecordInput[] = [
  { kind: 'event', eventType: 'request_received', user: 'alice', component: 'gateway' },
  { kind: 'event', eventType: 'request_blocked', user: 'alice', component: 'gateway', status: 'blocked' },
  call('alice', ['request_received', 'routing_start', 'routing_success', 'request_completed']),
  call('bob', ['request_received', 'policy_evaluated', 'request_blocked', 'request_completed'], { status: 'blocked' }),
  call('alice', ['request_received', 'routing_attempt_failed', 'routing_attempt_failed', 'routing_fallback', 'routing_success', 'request_completed']),
  { kind: 'event', eventType: 'review_decided', user: 'bob', component: 'review' },
  call('alice', ['request_received', 'policy_evaluated', 'request_blocked', 'request_completed'], { status: 'blocked', timestamp: '2026-01-03T00:00:00.000Z' }),
  // Text that merely quotes an event type is not an event.
  { kind: 'llm.call', user: 'carol', metadata: { note: '"type":"request_blocked"', events: [{ type: 'request_blocked' }] } },
];

const FILTERS: SearchFilter[] = [
  { eventType: 'request_blocked' },
  { eventType: 'request_received' },
  { eventType: 'routing_attempt_failed' },
  { eventType: 'routing_fallback' },
  { eventType: 'policy_evaluated' },
  { eventType: 'review_decided' },
  { eventType: 'never_happened' },
  { eventType: 'request_blocked', user: 'alice' },
  { eventType: 'request_blocked', kind: 'llm.call' },
  { eventType: 'request_blocked', status: 'blocked', since: '2026-01-03T00:00:00.000Z' },
  { eventType: 'request_received', user: 'alice', model: 'gpt-4o' },
];

export function eventsConformance(t: SuiteState): void {
  describe('events carried inside records', () => {
    it('finds by event type every record that is, or carries, such an event: newest first, paged, with other filters, in search and scan', async () => {
      const entries = entriesFor(MIXED);
      await t.append(entries);
      const envelopes = entries.map((e, index) => ({ index, envelope: JSON.parse(e.canonical) as Parameters<typeof matchesFilter>[0] }));
      for (const filter of FILTERS) {
        const expected = envelopes.filter((r) => matchesFilter(r.envelope, filter)).map((r) => r.index);
        const found = (await t.store.search(filter, { limit: 100 })).map((r) => r.index);
        expect(found, JSON.stringify(filter)).toEqual([...expected].reverse());
        const paged = (await t.store.search(filter, { limit: 1, beforeIndex: expected.at(-1) ?? 0 })).map((r) => r.index);
        expect(paged, `page of ${JSON.stringify(filter)}`).toEqual(expected.length > 1 ? [expected.at(-2)] : []);
        const scans: number[] = [];
        for await (const batch of t.store.scan(filter, 2)) scans.push(...batch.map((r) => r.index));
        expect(scans, `scan of ${JSON.stringify(filter)}`).toEqual(expected);
      }
      expect((await t.store.search({ eventType: 'request_blocked' }, { limit: 10 })).map((r) => r.index)).toEqual([6, 3, 1]);
    });

    it('keeps its index of events in agreement with the records, and names what an edit of the index changed', async (context) => {
      if (!t.store.checkEventIndex) return context.skip();
      await t.append(entriesFor(MIXED));
      expect(await t.store.checkEventIndex()).toEqual([]);
      const tamper = t.harness.tamper?.editEventIndex;
      if (!tamper) return;
      await tamper(t.store, 3, 'request_blocked', false);
      expect((await t.store.search({ eventType: 'request_blocked' }, { limit: 10 })).map((r) => r.index)).toEqual([6, 1]);
      expect(await t.store.checkEventIndex()).toEqual([expect.stringMatching(/lacks events that the records at index 3 carry/)]);
      await tamper(t.store, 2, 'request_blocked', true);
      expect(await t.store.checkEventIndex()).toEqual([
        expect.stringMatching(/lacks events that the records at index 3 carry/),
        expect.stringMatching(/lists events that the records at index 2 do not carry/),
      ]);
      // With verify's scan having checked each record, only the rows no record explains are left.
      expect(await t.store.checkEventIndex({ rowsScanned: true })).toEqual([expect.stringMatching(/index 2 do not carry/)]);
    });

    it('loses the index rows of pruned records with them, and still finds the records that remain', async (context) => {
      if (!t.store.pruning || !t.store.checkEventIndex) return context.skip();
      await t.append(entriesFor(MIXED), { raiseHorizon: 4 });
      await t.store.pruning.prune(4, 100);
      expect(await t.store.checkEventIndex()).toEqual([]);
      expect((await t.store.search({ eventType: 'request_blocked' }, { limit: 10 })).map((r) => r.index)).toEqual([6]);
      expect((await t.store.search({ eventType: 'routing_fallback' }, { limit: 10 })).map((r) => r.index)).toEqual([4]);
    });
  });
}

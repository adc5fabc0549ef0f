import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../../record/types.js';
import { RecordWindow } from './record-window.js';

const call = (name: string): RecordInput[] => [{ kind: 'event', eventType: name, component: 'gateway' }];
const nameOf = (records: readonly RecordInput[]) => records[0]!.eventType!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** Counts turns of the event loop while it runs, so a test can tell which turn did something. */
function turnCounter(): { readonly turn: number; stop(): void } {
  let turn = 0;
  let running = true;
  const tick = () => {
    turn++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop: () => (running = false),
  };
}

/** Adds `calls` calls at once to a 1 ms window whose hand-over takes `busyMs` each; says in which turn each was handed over. */
async function handOverTimed(calls: number, busyMs: number): Promise<{ name: string; turn: number }[]> {
  const turns = turnCounter();
  const handed: { name: string; turn: number }[] = [];
  const groups: Promise<void>[] = [];
  const window = new RecordWindow(
    1,
    (records) => {
      handed.push({ name: nameOf(records), turn: turns.turn });
      busy(busyMs);
    },
    (group) => groups.push(group),
  );
  for (let i = 0; i < calls; i++) window.add(call(`c${i}`));
  await groups[0];
  turns.stop();
  return handed;
}

describe('RecordWindow', () => {
  it('hands the calls that ended within the window to the ledger together, in the order they ended', async () => {
    const handed: string[] = [];
    const window = new RecordWindow(
      20,
      (records) => handed.push(nameOf(records)),
      () => undefined,
    );
    window.add(call('a'));
    window.add(call('b'));
    await sleep(5);
    window.add(call('c'));
    expect(handed).toEqual([]);
    await sleep(40);
    expect(handed).toEqual(['a', 'b', 'c']);
  });

  it('starts a new window with the first call after a group was handed over', async () => {
    const handed: string[] = [];
    const window = new RecordWindow(
      10,
      (records) => handed.push(nameOf(records)),
      () => undefined,
    );
    window.add(call('a'));
    await sleep(30);
    window.add(call('b'));
    expect(handed).toEqual(['a']);
    await sleep(30);
    expect(handed).toEqual(['a', 'b']);
  });

  it('lets a shutdown wait for each group until it is handed over', async () => {
    const handed: string[] = [];
    const groups: Promise<void>[] = [];
    const window = new RecordWindow(
      10,
      (records) => handed.push(nameOf(records)),
      (group) => groups.push(group),
    );
    window.add(call('a'));
    window.add(call('b'));
    expect(groups).toHaveLength(1);
    await groups[0];
    expect(handed).toEqual(['a', 'b']);
    window.add(call('c'));
    expect(groups).toHaveLength(2);
    await groups[1];
    expect(handed).toEqual(['a', 'b', 'c']);
  });

  it('hands a long group over across several turns of the event loop, so requests are not held up behind all of it', async () => {
    const handed = await handOverTimed(20, 0.1);
    expect(handed.map((h) => h.name)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    // 0.1 ms a call against 0.25 ms a turn: a few calls a turn.
    expect(new Set(handed.map((h) => h.turn)).size).toBeGreaterThanOrEqual(5);
  });

  it('hands over a backlog beyond 256 calls in one turn, so the queue cannot grow without bound', async () => {
    const handed = await handOverTimed(400, 0.01);
    expect(handed).toHaveLength(400);
    expect(handed.filter((h) => h.turn === handed[0]!.turn).length).toBeGreaterThanOrEqual(400 - 256);
  });
});

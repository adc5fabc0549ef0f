import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCapturePolicy } from '../capture/default-policy.js';
import { Digester } from '../crypto/digest.js';
import { generateSignerKey } from '../log/checkpoint.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { StoreError, type Appended, type Store } from '../store/store.js';
import { Ledger } from './ledger.js';
import { Spool, SpoolError, type SpooledEntry } from './spool.js';
import { FailingStore } from './test-support/failing-store.js';
import { sampleCall, tempDir } from './test-support/fixtures.js';

const entry = (i: number): SpooledEntry => ({ id: `id-${i}`, canonical: JSON.stringify({ v: 1, n: i, text: 'line\nbreak' }) });
const SIGNER = generateSignerKey('test.example/spool');

/** A ledger over `store` with a spool in `dir`; its signing key is shared so it can be reopened. */
async function spooledLedger(store: Store, dir: string, retryIntervalMs = 20): Promise<Ledger> {
  const spool = await Spool.open(join(dir, 'ledger.spool'));
  return Ledger.create({
    store,
    signerKey: SIGNER,
    origin: 'test.example/spool',
    capture: defaultCapturePolicy(new Digester('sha256')),
    limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
    writer: { maxBatch: 8, maxWaitMs: 0, checkpointIntervalMs: 0 },
    onWarning: () => undefined,
    spool,
    retryIntervalMs,
  });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function models(ledger: Ledger): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of ledger.records({ kind: 'llm.call' })) out.push(...batch.map((r) => r.envelope.model ?? ''));
  return out;
}

describe('Spool (the file)', () => {
  it('reads back entries in the order they were appended, across reopening, with content bytes intact', async () => {
    const path = join(tempDir(), 'a.spool');
    let spool = await Spool.open(path);
    const withContent: SpooledEntry = {
      ...entry(2),
      content: { ts: '2026-01-01T00:00:00.000Z', items: [{ mode: 'encrypted', subject: 'user:a', data: new Uint8Array([0, 10, 255, 13]) }] },
    };
    await Promise.all([spool.append([entry(0), entry(1)]), spool.append([withContent]), spool.append([entry(3)])]);
    await spool.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);

    spool = await Spool.open(path);
    expect(spool.entries).toBe(4);
    const first = await spool.read(0, 3);
    expect(first.entries.map((e) => e.id)).toEqual(['id-0', 'id-1', 'id-2']);
    expect(first.entries[0]!.canonical).toBe(entry(0).canonical);
    expect(Buffer.from(first.entries[2]!.content!.items[0]!.data)).toEqual(Buffer.from([0, 10, 255, 13]));
    const rest = await spool.read(first.next, 10);
    expect(rest.entries.map((e) => e.id)).toEqual(['id-3']);
    expect(rest.next).toBe(spool.size);
    expect((await spool.read(rest.next, 10)).entries).toEqual([]);
    await spool.close();
  });

  it('reads entries larger than one read chunk', async () => {
    const spool = await Spool.open(join(tempDir(), 'big.spool'));
    const big = { id: 'big', canonical: 'x'.repeat(700_000) };
    await spool.append([entry(0), big, entry(1)]);
    const read = await spool.read(0, 10);
    expect(read.entries.map((e) => e.canonical.length)).toEqual([entry(0).canonical.length, 700_000, entry(1).canonical.length]);
    await spool.close();
  });

  it('cuts a torn last line left by a crash mid-write: that append never resolved', async () => {
    const path = join(tempDir(), 'torn.spool');
    const spool = await Spool.open(path);
    await spool.append([entry(0), entry(1)]);
    await spool.close();
    appendFileSync(path, '{"id":"id-2","canon');
    const reopened = await Spool.open(path);
    expect(reopened.entries).toBe(2);
    await reopened.append([entry(3)]);
    expect((await reopened.read(0, 10)).entries.map((e) => e.id)).toEqual(['id-0', 'id-1', 'id-3']);
    await reopened.close();
  });

  it('names the byte offset of an unreadable entry and keeps the file', async () => {
    const path = join(tempDir(), 'bad.spool');
    const good = `${JSON.stringify({ id: 'a', canonical: '{}' })}\n`;
    writeFileSync(path, `${good}not json\n`);
    const spool = await Spool.open(path);
    const error = await spool.read(0, 10).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SpoolError);
    expect(String(error)).toMatch(new RegExp(`unreadable entry at byte ${good.length} .*move the file aside`));
    await spool.close();
    expect(readFileSync(path, 'utf8')).toContain('not json');
  });

  it('clears only what was appended before the clear', async () => {
    const spool = await Spool.open(join(tempDir(), 'c.spool'));
    const before = spool.append([entry(0)]);
    const cleared = spool.clear();
    const after = spool.append([entry(1)]);
    await Promise.all([before, cleared, after]);
    expect((await spool.read(0, 10)).entries.map((e) => e.id)).toEqual(['id-1']);
    expect(spool.entries).toBe(1);
    await spool.close();
  });
});

describe('Ledger with a spool, over a store that fails', () => {
  it('spools records while the store is down and replays them in order when it returns; verify passes', async () => {
    const dir = tempDir();
    const store = new FailingStore(openSqliteStore(join(dir, 'ledger.db')));
    const ledger = await spooledLedger(store, dir);
    await ledger.record(sampleCall(0, { model: 'm-0' }));

    store.down = true;
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.record(sampleCall(i + 1, { model: `m-${i + 1}` }))));
    expect(during.every((r) => r.spooled === true && r.index === -1)).toBe(true);
    expect(ledger.storeHealth()).toMatchObject({ available: false, spooled: 20, error: expect.stringMatching(/disk I\/O error/) });
    // Records keep coming while the spool is being replayed; they must land behind it.
    store.down = false;
    const behind = ledger.record(sampleCall(21, { model: 'm-21' }));
    await until(() => ledger.storeHealth().spooled === 0 && ledger.storeHealth().available);
    await behind;
    await until(async () => (await ledger.search({ eventType: 'store_outage' })).records.length === 1);

    expect(await models(ledger)).toEqual(Array.from({ length: 22 }, (_, i) => `m-${i}`));
    const [outage] = (await ledger.search({ eventType: 'store_outage' })).records;
    expect(outage!.envelope).toMatchObject({
      kind: 'event',
      component: 'ledger',
      metadata: { failedRecords: 0, spooledRecords: 21, error: expect.stringMatching(/injected/) },
    });
    expect(await ledger.verify()).toMatchObject({ ok: true, size: 23 });
    expect(statSync(join(dir, 'ledger.spool')).size).toBe(0);
    await ledger.close();
  });

  it('replays a spool whose batches the returning store refuses when large (a deadline it cannot meet): smaller batches get through', async () => {
    const dir = tempDir();
    /** A store that comes back able to commit only small batches in time. */
    class SlowStore extends FailingStore {
      override async append(...args: Parameters<FailingStore['append']>): Promise<Appended> {
        if (!this.down && args[0].length > 2) throw new StoreError('timed out after 1000 ms (injected)');
        return super.append(...args);
      }
    }
    const store = new SlowStore(openSqliteStore(join(dir, 'ledger.db')));
    const ledger = await spooledLedger(store, dir, 5);
    store.down = true;
    await Promise.all(Array.from({ length: 40 }, (_, i) => ledger.record(sampleCall(i, { model: `m-${i}` }))));
    store.down = false;
    await until(() => ledger.storeHealth().spooled === 0 && ledger.storeHealth().available);
    expect(await models(ledger)).toEqual(Array.from({ length: 40 }, (_, i) => `m-${i}`));
    await ledger.close();
  });

  it('keeps spooled records across a restart and replays them at the next open', async () => {
    const dir = tempDir();
    const store = new FailingStore(openSqliteStore(join(dir, 'ledger.db')));
    const first = await spooledLedger(store, dir, 60_000);
    await first.record(sampleCall(0, { model: 'm-0' }));
    store.down = true;
    for (let i = 1; i <= 5; i++) await first.record(sampleCall(i, { model: `m-${i}` }));
    await first.close();

    const second = await spooledLedger(openSqliteStore(join(dir, 'ledger.db')), dir);
    await until(() => second.storeHealth().spooled === 0);
    expect(await models(second)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5']);
    expect(await second.verify()).toMatchObject({ ok: true });
    await second.close();
  });

  it('does not replay twice what reached the store before a crash mid-replay', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.db');
    const store = new FailingStore(openSqliteStore(path));
    const ledger = await spooledLedger(store, dir, 60_000);
    store.down = true;
    for (let i = 0; i < 6; i++) await ledger.record(sampleCall(i, { model: `m-${i}` }));
    // A copy of the spool as it was before replay, as a crash right after replaying would leave it.
    const spooled = readFileSync(join(dir, 'ledger.spool'));
    store.down = false;
    await ledger.flush();
    await ledger.close();
    writeFileSync(join(dir, 'ledger.spool'), spooled);

    const reopened = await spooledLedger(openSqliteStore(path), dir);
    await until(() => reopened.storeHealth().spooled === 0);
    await reopened.record(sampleCall(9, { model: 'm-9' }));
    expect(await models(reopened)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-9']);
    expect(await reopened.verify()).toMatchObject({ ok: true });
    await reopened.close();
  });
});

describe('Ledger without a spool, over a store that fails', () => {
  it('rejects records while the store is down, reports it, and records the outage once the store returns', async () => {
    const dir = tempDir();
    const store = new FailingStore(openSqliteStore(join(dir, 'ledger.db')));
    const ledger = await Ledger.create({
      store,
      signerKey: SIGNER,
      origin: 'test.example/spool',
      capture: defaultCapturePolicy(new Digester('sha256')),
      limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
      writer: { maxBatch: 8, maxWaitMs: 0, checkpointIntervalMs: 0 },
      onWarning: () => undefined,
      retryIntervalMs: 20,
    });
    await ledger.record(sampleCall(0));
    store.down = true;
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(/disk I\/O error/);
    await expect(ledger.record(sampleCall(2))).rejects.toThrow(/disk I\/O error/);
    expect(ledger.storeHealth()).toMatchObject({ available: false, spooled: 0 });

    // Nothing else is recorded, yet the ledger notices the store is back: the outage event is its probe.
    await new Promise((resolve) => setTimeout(resolve, 60));
    store.down = false;
    await until(() => ledger.storeHealth().available);
    const outage = await ledger.search({ eventType: 'store_outage' });
    expect(outage.records).toHaveLength(1);
    expect(outage.records[0]!.envelope.metadata).toMatchObject({ failedRecords: 2, spooledRecords: 0 });
    expect(ledger.storeHealth()).toEqual({ available: true, spooled: 0 });
    expect(await ledger.verify()).toMatchObject({ ok: true, size: 2 });
    await ledger.close();
  });
});

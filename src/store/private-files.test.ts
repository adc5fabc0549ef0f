import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerConfig } from '../config/schema.js';
import { Spool } from '../ledger/spool.js';
import { openLedger } from '../ledger/open-ledger.js';
import { sampleCall, tempDir, testConfig } from '../ledger/test-support/fixtures.js';
import { openFileAnchor } from '../log/anchor.js';
import { openStore } from './open-store.js';

/** The permission bits of a file or directory. */
const mode = (path: string) => statSync(path).mode & 0o777;

// A permissive umask, as on most machines: without an explicit mode, files would come out 0644.
let umask: number;
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
});

/** A ledger whose files all live in directories it has to create itself. */
function nestedConfig(dir: string, store: 'sqlite' | 'jsonl', anchor: string): LedgerConfig {
  const base = testConfig(dir, { store });
  return {
    ...base,
    store: { ...base.store, path: join(dir, 'data', 'nested', store === 'sqlite' ? 'ledger.db' : 'jsonl') },
    log: { ...base.log, signingKeyFile: join(dir, 'keys', 'signing.key'), anchor: { path: join(dir, anchor) } },
    digest: { ...base.digest, keyFile: join(dir, 'keys', 'digest.key') },
  };
}

describe('files the ledger creates are private to their owner', () => {
  it('SQLite: the database, its -wal and -shm files 0600, the directories created for it 0700', async () => {
    const dir = tempDir();
    const cfg = nestedConfig(dir, 'sqlite', join('anchors', 'anchor.jsonl'));
    const ledger = await openLedger(cfg, { onWarning: () => undefined });
    try {
      await ledger.record(sampleCall(0));
      const db = cfg.store.path;
      // Looked at while the ledger is open, when SQLite keeps its write-ahead log and shared memory.
      expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`)).toBe(true);
      expect([db, `${db}-wal`, `${db}-shm`].map(mode)).toEqual([0o600, 0o600, 0o600]);
      expect([join(dir, 'data'), join(dir, 'data', 'nested')].map(mode)).toEqual([0o700, 0o700]);
    } finally {
      await ledger.close();
    }
    // The keys, and the append-file anchor, which has a checkpoint by now.
    expect([join(dir, 'keys', 'signing.key'), join(dir, 'keys', 'digest.key')].map(mode)).toEqual([0o600, 0o600]);
    expect(mode(join(dir, 'keys'))).toBe(0o700);
    expect(openFileAnchor(join(dir, 'anchors', 'anchor.jsonl')).read().length).toBeGreaterThan(0);
    expect(mode(join(dir, 'anchors', 'anchor.jsonl'))).toBe(0o600);
    expect(mode(join(dir, 'anchors'))).toBe(0o700);
  });

  it('JSONL: the store directory 0700 and every file in it 0600; a directory anchor 0700 with read-only 0400 checkpoints', async () => {
    const dir = tempDir();
    const cfg = nestedConfig(dir, 'jsonl', 'anchor-dir');
    const ledger = await openLedger(cfg, { onWarning: () => undefined });
    try {
      await ledger.record(sampleCall(0));
      await ledger.record(sampleCall(1));
    } finally {
      await ledger.close();
    }
    const store = cfg.store.path;
    expect([join(dir, 'data'), join(dir, 'data', 'nested'), store].map(mode)).toEqual([0o700, 0o700, 0o700]);
    const files = readdirSync(store);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.map((f) => [f, mode(join(store, f))])).toEqual(files.map((f) => [f, 0o600]));
    const anchor = join(dir, 'anchor-dir');
    expect(mode(anchor)).toBe(0o700);
    const checkpoints = readdirSync(anchor);
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(checkpoints.map((f) => mode(join(anchor, f)))).toEqual(checkpoints.map(() => 0o400));
  });

  it('the spool file 0600', async () => {
    const path = join(tempDir(), 'ledger.spool');
    const spool = await Spool.open(path);
    await spool.append([{ id: 'a', canonical: '{}' }]);
    await spool.close();
    expect(mode(path)).toBe(0o600);
  });

  it('an existing database, store directory or anchor keeps the mode its owner gave it', async () => {
    const dir = tempDir();
    const db = join(dir, 'shared.db');
    writeFileSync(db, '');
    chmodSync(db, 0o640);
    const anchorFile = join(dir, 'anchor.jsonl');
    writeFileSync(anchorFile, '');
    chmodSync(anchorFile, 0o644);
    const base = testConfig(dir);
    const ledger = await openLedger(
      { ...base, store: { ...base.store, path: db }, log: { ...base.log, anchor: { path: anchorFile } } },
      { onWarning: () => undefined },
    );
    try {
      await ledger.record(sampleCall(0));
      expect(mode(db)).toBe(0o640);
    } finally {
      await ledger.close();
    }
    expect(mode(anchorFile)).toBe(0o644);

    const jsonl = join(dir, 'jsonl');
    const made = openStore({ ...base.store, type: 'jsonl', path: jsonl });
    await made.close();
    chmodSync(jsonl, 0o755);
    await openStore({ ...base.store, type: 'jsonl', path: jsonl }).close();
    expect(mode(jsonl)).toBe(0o755);
  });
});

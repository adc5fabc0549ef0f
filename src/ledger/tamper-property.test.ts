import fc from 'fast-check';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { openTestLedger, recordSequentially, tempDir } from './test-support/fixtures.js';

type Mutation =
  | { kind: 'field'; at: number; path: string; value: string }
  | { kind: 'delete'; at: number }
  | { kind: 'insert'; at: number }
  | { kind: 'swap'; at: number; other: number }
  | { kind: 'truncate'; at: number };

/** Each mutation as SQL, and the index verify must name for it. */
function plant(m: Mutation): { sql: string; firstBad: number } {
  switch (m.kind) {
    case 'field':
      // Any field, to a value no honest record has. (Malformed JSON cannot be planted at all: the
      // generated columns make SQLite refuse it; the JSONL tests cover a line edited into nonsense.)
      return { sql: `UPDATE records SET envelope = json_set(envelope, '${m.path}', '${m.value}') WHERE idx = ${m.at}`, firstBad: m.at };
    case 'delete':
      return { sql: `DELETE FROM records WHERE idx = ${m.at}`, firstBad: m.at };
    case 'insert':
      return {
        sql: `UPDATE records SET idx = -idx - 1 WHERE idx >= ${m.at}; UPDATE records SET idx = -idx WHERE idx < 0;
              INSERT INTO records (idx, id, envelope) SELECT ${m.at}, 'forged', json_set(envelope, '$.user', 'mallory') FROM records WHERE idx = ${m.at + 1}`,
        firstBad: m.at,
      };
    case 'swap':
      return {
        sql: `UPDATE records SET idx = -1 WHERE idx = ${m.at}; UPDATE records SET idx = ${m.at} WHERE idx = ${m.other}; UPDATE records SET idx = ${m.other} WHERE idx = -1`,
        firstBad: m.at,
      };
    case 'truncate':
      return {
        sql: `DELETE FROM records WHERE idx >= ${m.at}; DELETE FROM leaves WHERE idx >= ${m.at}; DELETE FROM checkpoints WHERE size > ${m.at}`,
        firstBad: m.at,
      };
  }
}

const SIZE = 8;
const index = fc.nat({ max: SIZE - 1 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('field' as const),
    at: index,
    path: fc.constantFrom('$.model', '$.user', '$.inputTokens', '$.costUsd', '$.ts', '$.status', '$.id', '$.metadata.n', '$.digests.input', '$.added'),
    value: fc.stringMatching(/^tampered-[a-z0-9]{1,8}$/),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: index }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: SIZE - 2 }) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat({ max: SIZE - 2 }), other: fc.integer({ min: 1, max: SIZE - 1 }) }).filter((m) => m.other > m.at),
  fc.record({ kind: fc.constant('truncate' as const), at: index }),
);

describe('verify against random tampering', () => {
  it('detects every mutation of a SQLite ledger and names its first bad index', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const dir = tempDir();
        const writer = await openTestLedger(dir);
        await recordSequentially(writer, SIZE);
        await writer.close();
        const db = new DatabaseSync(join(dir, 'ledger.db'));
        for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) db.exec(`DROP TRIGGER ${name}`);
        const { sql, firstBad } = plant(m);
        db.exec(sql);
        db.close();
        const ledger = await openTestLedger(dir);
        const report = await ledger.verify();
        await ledger.close();
        expect(report.ok).toBe(false);
        expect(report.firstBadIndex).toBe(firstBad);
      }),
      { numRuns: 40 },
    );
  });
});

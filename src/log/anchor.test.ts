import { appendFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnchorError, openFileAnchor } from './anchor.js';

const temp = () => mkdtempSync(join(tmpdir(), 'anchor-'));
const noteOf = (size: number) => `llm-ledger.local/test\n${size}\n${'h'.repeat(44)}\n\n— signature ${size}\n`.repeat(20);

describe('a directory anchor', () => {
  it('keeps one file per checkpoint and reads them back in size order', async () => {
    const anchor = openFileAnchor(join(temp(), 'anchors'));
    for (const size of [3, 10, 7]) await anchor.publish({ size, note: noteOf(size) });
    expect(anchor.read()).toEqual([3, 7, 10].map((size) => ({ size, note: noteOf(size) })));
  });

  it('accepts the same checkpoint twice and refuses a different one of the same size', async () => {
    const dir = join(temp(), 'anchors');
    const anchor = openFileAnchor(dir);
    await anchor.publish({ size: 5, note: noteOf(5) });
    await anchor.publish({ size: 5, note: noteOf(5) });
    await expect(anchor.publish({ size: 5, note: noteOf(6) })).rejects.toThrow(AnchorError);
    expect(anchor.read()).toEqual([{ size: 5, note: noteOf(5) }]);
    expect(readdirSync(dir)).toEqual(['checkpoint-000000000000005.txt']);
  });

  it('is never seen half-written by a reader running at the same time', async () => {
    const anchor = openFileAnchor(join(temp(), 'anchors'));
    const seen: { size: number; note: string }[] = [];
    let publishing = true;
    const reader = (async () => {
      while (publishing) {
        seen.push(...anchor.read());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all(Array.from({ length: 200 }, (_, size) => anchor.publish({ size, note: noteOf(size) })));
    publishing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (const checkpoint of seen) expect(checkpoint.note).toBe(noteOf(checkpoint.size));
  });
});

describe('an append-file anchor', () => {
  it('ignores an append still in progress after the last newline, and names a broken complete line', async () => {
    const file = join(temp(), 'anchor.jsonl');
    const anchor = openFileAnchor(file);
    await anchor.publish({ size: 1, note: noteOf(1) });
    appendFileSync(file, '{"size":2,"note":"llm-led');
    expect(anchor.read()).toEqual([{ size: 1, note: noteOf(1) }]);
    writeFileSync(file, '{"size":1}\n');
    expect(() => anchor.read()).toThrow(/line 1 is not a checkpoint/);
  });
});

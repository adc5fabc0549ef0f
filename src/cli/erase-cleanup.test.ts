import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../ledger/test-support/fixtures.js';
import { verifyProof } from '../log/proof.js';
import type { RecordInput } from '../record/types.js';
import { BIN, ledgerDir, run } from './test-support/cli.js';

const ENCRYPTED = `capture:
  prompts: encrypted
  responses: encrypted
encryption:
  kek_file: ./current.kek
`;
const withKek = (dir: string) => writeFileSync(join(dir, 'current.kek'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const call = (timestamp: string, who: { user?: string; tenant?: string }, text: string): RecordInput => ({
  timestamp,
  model: 'gpt-4o',
  ...who,
  content: { input: `prompt ${text}`, output: `answer ${text}` },
});

interface Listed {
  index: number;
  envelope: { id: string; kind: string; user?: string; metadata?: Record<string, unknown> };
}

const search = (dir: string, ...args: string[]) =>
  (JSON.parse(run(dir, ['search', '--json', '--limit', '1000', ...args]).stdout) as { records: Listed[] }).records;
const idOf = (dir: string, user: string) => search(dir, '--user', user, '--kind', 'llm.call')[0]!.envelope.id;
const reveal = (dir: string, id: string) => run(dir, ['show', id, '--reveal', '--reason', 'test', '--json']);

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `typed` at the prompt. */
function onTerminal(dir: string, typed: string, ...args: string[]) {
  const command = [process.execPath, BIN, '--config', join(dir, 'llm-ledger.yaml'), ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, input: `${typed}\n`, encoding: 'utf8' });
  return { code: result.status, output: result.stdout };
}

describe('writing commands where there is no ledger', () => {
  it('erase, cleanup and show --reveal refuse with exit 3 and create nothing, before asking anything', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'llm-ledger.yaml'), 'store:\n  path: ./ledger.db\n');
    for (const args of [
      ['erase', '--user', 'alice'],
      ['erase', '--user', 'alice', '--yes'],
      ['cleanup'],
      ['show', '01900000-0000-7000-8000-000000000000', '--reveal', '--reason', 'x'],
    ]) {
      expect(run(dir, args), args.join(' ')).toMatchObject({
        code: 3,
        stdout: '',
        stderr: expect.stringMatching(/^llm-ledger: no ledger at .*ledger\.db \(store\.path\)/),
      });
    }
    expect(readdirSync(dir)).toEqual(['llm-ledger.yaml']);
  });
});

describe('erase', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await ledgerDir(
      [
        call(ago(0), { user: 'alice' }, 'a1'),
        call(ago(0), { user: 'alice' }, 'a2'),
        call(ago(0), { user: 'bob' }, 'b1'),
        call(ago(0), { tenant: 'acme' }, 't1'),
      ],
      ENCRYPTED,
      {},
      withKek,
    );
  }, 60_000);

  it('refuses without confirmation off a terminal, and with a wrong answer on one; nothing is erased', () => {
    expect(run(dir, ['erase', '--user', 'alice'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/stdin is not a terminal; pass --yes to confirm/),
    });
    const declined = onTerminal(dir, 'alicia', 'erase', '--user', 'alice');
    expect(declined.output).toMatch(/Erase every stored prompt, response and header of user alice\? .*cannot be undone/);
    expect(declined.output).toMatch(/not confirmed; nothing was erased/);
    expect(declined.code).toBe(2);
    expect(search(dir, '--kind', 'erasure')).toEqual([]);
    expect(reveal(dir, idOf(dir, 'alice')).code).toBe(0);
  });

  it('erases a user after the id is typed on a terminal, keeping everyone else readable and the log verifiable', () => {
    const aliceId = idOf(dir, 'alice');
    const confirmed = onTerminal(dir, 'alice', 'erase', '--user', 'alice');
    expect(confirmed.code).toBe(0);
    expect(confirmed.output).toMatch(
      /Erased user alice: 1 data key\(s\) destroyed, 2 content item\(s\) deleted\.\r?\nRecorded as erasure record \S+; envelopes are kept/,
    );
    const [erasure] = search(dir, '--kind', 'erasure');
    expect(erasure!.envelope).toMatchObject({ user: 'alice', metadata: { subject: 'user:alice', keysDestroyed: 1, contentDeleted: 2 } });

    expect(reveal(dir, aliceId)).toMatchObject({ code: 4, stderr: expect.stringMatching(/is no longer stored: it was erased/) });
    expect(JSON.parse(reveal(dir, idOf(dir, 'bob')).stdout)).toMatchObject({ content: { input: 'prompt b1', output: 'answer b1' } });
    expect(run(dir, ['verify'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: /) });
    expect(run(dir, ['prove', aliceId]).code).toBe(0);
  });

  it('erases a tenant with --yes and prints the counts as JSON', () => {
    const { code, stdout } = run(dir, ['erase', '--tenant', 'acme', '--yes', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ subject: 'tenant:acme', keysDestroyed: 1, contentDeleted: 1, erasureRecordId: expect.any(String) });
    // Erasing again is harmless and says nothing was left.
    expect(run(dir, ['erase', '--tenant', 'acme', '--yes']).stdout).toMatch(
      /0 data key\(s\) destroyed, 0 content item\(s\) deleted \(nothing was stored for it\)/,
    );
  });

  it('needs exactly one of --user or --tenant', () => {
    expect(run(dir, ['erase', '--yes'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/exactly one of --user <id> or --tenant <id>/) });
    expect(run(dir, ['erase', '--user', 'a', '--tenant', 'b', '--yes']).code).toBe(2);
    expect(run(dir, ['erase', '--user', ' ', '--yes']).code).toBe(2);
    expect(run(dir, ['erase', '--help']).stdout).toMatch(/Examples:\n\s+\$ llm-ledger erase --user alice/);
  });
});

describe('cleanup', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await ledgerDir(
      [call(ago(100), { user: 'alice' }, 'old'), call(ago(45), { user: 'bob' }, 'middle'), call(ago(0), { user: 'alice' }, 'new')],
      `${ENCRYPTED}retention:\n  content_days: 30\n  envelope_days: 60\n`,
      {},
      withKek,
    );
  }, 60_000);

  it('deletes expired content, prunes expired envelopes, records it, and leaves the log verifiable', () => {
    const kept = search(dir).find((r) => r.index === 2)!.envelope.id;
    const { code, stdout } = run(dir, ['cleanup']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('Retention (preset standard): content 30 days, envelopes 60 days.');
    expect(lines[1]).toMatch(/^Content: 2 item\(s\) older than \d{4}-\d\d-\d\dT[\d:.]+Z deleted\.$/);
    expect(lines[2]).toMatch(/^Envelopes: 1 older than \S+ pruned \(indexes 0 to 0\); their leaf hashes are kept/);
    expect(lines[3]).toMatch(/^Recorded as retention record\(s\) \S+\.$/);

    expect(search(dir).map((r) => r.index)).toEqual([3, 2, 1]);
    expect(search(dir, '--kind', 'retention')[0]!.envelope.metadata).toMatchObject({ content: { deleted: 2 }, envelopes: { from: 0, below: 1, count: 1 } });
    expect(reveal(dir, search(dir).find((r) => r.index === 1)!.envelope.id)).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/expired under retention/),
    });
    expect(JSON.parse(reveal(dir, kept).stdout)).toMatchObject({ content: { input: 'prompt new' } });
    expect(run(dir, ['verify'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: /) });
    expect(run(dir, ['prove', kept, '--out', 'kept.json']).code).toBe(0);
    expect(verifyProof(readFileSync(join(dir, 'kept.json'))).ok).toBe(true);
  });

  it('says so when nothing has expired, as text and as JSON', () => {
    const { code, stdout } = run(dir, ['cleanup']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /Content: 0 item\(s\) older than .* deleted\.\nEnvelopes: none older than .* to prune\.\nNothing was removed, so no retention record was added\.\n$/,
    );
    const json = JSON.parse(run(dir, ['cleanup', '--json']).stdout) as { retention: { contentDays: number }; passes: unknown[] };
    expect(json.retention.contentDays).toBe(30);
    expect(json.passes).toEqual([{}]);
  });

  it('reports periods kept forever', async () => {
    const forever = await ledgerDir([call(ago(4000), { user: 'x' }, 'ancient')], 'retention:\n  content_days: forever\n  envelope_days: forever\n');
    expect(run(forever, ['cleanup']).stdout).toBe(
      'Retention (preset standard): content forever, envelopes forever.\nContent: kept forever.\nEnvelopes: kept forever.\nNothing was removed, so no retention record was added.\n',
    );
  });
});

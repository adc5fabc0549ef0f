import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { configText, ledgerDir, recordInto, run } from './test-support/cli.js';

const CAPTURE_ENCRYPTED = `capture:
  prompts: encrypted
  responses: encrypted
`;
const ENCRYPTED = `${CAPTURE_ENCRYPTED}encryption:
  kek_file: ./current.kek
`;

const writeKek = (dir: string, name: string) => writeFileSync(join(dir, name), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

const PROMPT = 'Summarise the Q3 board minutes for Dana';
const ANSWER = 'The board approved the merger with Initech.';

interface Shown {
  index: number;
  envelope: { id: string; user?: string; kind: string; metadata?: Record<string, unknown> };
  content?: Record<string, unknown>;
  accessRecordId?: string;
  actor?: string;
}

describe('show --reveal', () => {
  let dir = '';
  let ids: string[] = [];
  const searchJson = (...args: string[]) => (JSON.parse(run(dir, ['search', '--json', ...args]).stdout) as { records: Shown[] }).records;
  const size = () => searchJson('--limit', '1000').length;

  beforeAll(async () => {
    dir = await ledgerDir([], ENCRYPTED, {}, (d) => writeKek(d, 'current.kek'));
    ids = await recordInto(dir, [
      { model: 'gpt-4o', user: 'alice', content: { system: 'You are terse.', input: PROMPT, output: ANSWER } },
      { model: 'gpt-4o', user: 'bob', content: { input: 'line one\nline two\u001b[2J\u009b31m', output: 'ok' } },
      // This call lowered its own capture: digests only, nothing to reveal.
      { model: 'gpt-4o', user: 'carol', content: { input: 'never stored', output: 'never stored either' }, capture: 'hash' },
      { model: 'gpt-4o', user: 'dave', content: { input: 'to be tampered with' } },
    ]);
  }, 60_000);

  it('decrypts the content for a key holder and records who looked and why', () => {
    const { code, stdout, stderr } = run(dir, ['show', ids[0]!, '--reveal', '--reason', 'complaint #12', '--actor', 'auditor-bo']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^FIELD\s+VALUE\n/);
    const access = /Content revealed to auditor-bo; this access is recorded as content_accessed record (\S+)\./.exec(stdout)?.[1];
    expect(access).toBeDefined();
    expect(stdout).toContain(`\ninput (encrypted):\n  | ${PROMPT}\n`);
    expect(stdout).toContain(`\noutput (encrypted):\n  | ${ANSWER}`);
    expect(stdout).toContain('\nsystem (encrypted):\n  | You are terse.\n');

    const [logged] = searchJson('--kind', 'content_accessed');
    expect(logged!.envelope).toMatchObject({ id: access, user: 'auditor-bo', metadata: { recordId: ids[0], reason: 'complaint #12' } });
    // The access record itself holds no content.
    expect(JSON.stringify(logged)).not.toContain(PROMPT);
  });

  it('prints content, actor and the access record as JSON, the actor defaulting to the OS user', () => {
    const { code, stdout } = run(dir, ['show', ids[0]!, '--reveal', '--reason', 'audit 2026-Q4', '--json']);
    expect(code).toBe(0);
    const shown = JSON.parse(stdout) as Shown;
    expect(shown.content).toEqual({ system: 'You are terse.', input: PROMPT, output: ANSWER });
    expect(shown.envelope.id).toBe(ids[0]);
    expect(shown.actor).toMatch(/\S/);
    expect(searchJson('--kind', 'content_accessed')[0]!.envelope).toMatchObject({ id: shown.accessRecordId, user: shown.actor });
  });

  it('keeps the line breaks of revealed text but escapes terminal controls, line by line behind a bar', () => {
    const { code, stdout } = run(dir, ['show', ids[1]!, '--reveal', '--reason', 'r']);
    expect(code).toBe(0);
    expect(stdout).toContain('\ninput (encrypted):\n  | line one\n  | line two\\u001b[2J\\u009b31m\n');
    expect(stdout).not.toMatch(/[\u001b\u009b]/);
  });

  it('refuses --reveal without --reason, and --reason or --actor without --reveal, recording nothing', () => {
    const before = size();
    expect(run(dir, ['show', ids[0]!, '--reveal'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/--reveal needs --reason "\.\.\." saying why/),
    });
    expect(run(dir, ['show', ids[0]!, '--reveal', '--reason', '  '])).toMatchObject({ code: 2 });
    expect(run(dir, ['show', ids[0]!, '--reason', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--reason and --actor go with --reveal/) });
    expect(run(dir, ['show', '--request-id', 'r', '--reveal', '--reason', 'x'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--reveal takes one record id/),
    });
    expect(size()).toBe(before);
  });

  it('exits 4 for an unknown id and for a record whose text was never stored', () => {
    expect(run(dir, ['show', '01900000-0000-7000-8000-000000000000', '--reveal', '--reason', 'x'])).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/no record with id/),
    });
    const hashOnly = run(dir, ['show', ids[2]!, '--reveal', '--reason', 'x']);
    expect(hashOnly.code).toBe(4);
    expect(hashOnly.stdout).toBe('');
    expect(hashOnly.stderr).toMatch(/has no stored content to reveal: it was captured with prompts: hash, responses: hash, headers: none/);
    expect(hashOnly.stderr).not.toContain('never stored');
  });

  it('says clearly when no key-encryption key is configured, or the configured one did not seal the content', () => {
    // Without any KEK the ledger refuses to open with encrypted capture configured.
    const noKek = ledgerCopy(dir, CAPTURE_ENCRYPTED);
    const missing = run(dir, ['--config', noKek, 'show', ids[0]!, '--reveal', '--reason', 'x'], { noConfig: true });
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(
      /no key-encryption key is configured: set LLM_LEDGER_KEK .* or encryption.kek_file; create one with: llm-ledger keys generate/,
    );

    // Capture since lowered to hash, and no KEK: the old ciphertext cannot be opened.
    const hashNow = ledgerCopy(dir, '');
    const noCipher = run(dir, ['--config', hashNow, 'show', ids[0]!, '--reveal', '--reason', 'x'], { noConfig: true });
    expect(noCipher).toMatchObject({ code: 2, stdout: '' });
    expect(noCipher.stderr).toMatch(/encrypted content needs a key-encryption key/);

    // A different KEK: the attempt is recorded, the content is not shown.
    writeKek(dir, 'other.kek');
    const wrong = run(dir, ['--config', ledgerCopy(dir, ENCRYPTED.replace('current.kek', 'other.kek')), 'show', ids[0]!, '--reveal', '--reason', 'wrong key'], {
      noConfig: true,
    });
    expect(wrong).toMatchObject({ code: 2, stdout: '' });
    expect(wrong.stderr).toMatch(
      /Cannot decrypt content of record .* \(unknown-key\).*not the one configured: set encryption.kek_file \(or LLM_LEDGER_KEK\) to it, or list it under encryption.previous_kek_files/,
    );
    expect(wrong.stderr).toMatch(/wrapped by key-encryption key kek-[0-9a-f]{16}, which is not configured/);
    expect(wrong.stderr).not.toContain(PROMPT);
    expect(searchJson('--kind', 'content_accessed')[0]!.envelope.metadata).toMatchObject({ reason: 'wrong key' });

    // The right key in the environment instead of a file works.
    const viaEnv = ledgerCopy(dir, CAPTURE_ENCRYPTED);
    const key = readFileSync(join(dir, 'current.kek'), 'utf8').trim();
    expect(run(dir, ['--config', viaEnv, 'show', ids[0]!, '--reveal', '--reason', 'env'], { noConfig: true, env: { LLM_LEDGER_KEK: key } }).code).toBe(0);
  });

  it('exits 1 when a stored ciphertext was altered, without printing any of it', () => {
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    const { data } = db.prepare('SELECT data FROM content WHERE record_id = ?').get(ids[3]!) as { data: Uint8Array };
    data[data.length - 20]! ^= 0x01;
    db.prepare('UPDATE content SET data = ? WHERE record_id = ?').run(data, ids[3]!);
    db.close();
    const { code, stdout, stderr } = run(dir, ['show', ids[3]!, '--reveal', '--reason', 'x']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /Cannot decrypt content of record .* \(tampered\): .*the ciphertext was altered\. Run 'llm-ledger verify' and investigate the store\./,
    );
  });

  it('lets someone without the key-encryption key query the envelopes of an encrypted ledger', () => {
    const viewer = ledgerCopy(dir, CAPTURE_ENCRYPTED);
    for (const args of [['search', '--json'], ['show', ids[0]!], ['stats'], ['export'], ['verify']]) {
      const { code, stdout, stderr } = run(dir, ['--config', viewer, ...args], { noConfig: true });
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
      expect(stdout).not.toContain(PROMPT);
    }
  });

  it('has --help with examples and the exit codes', () => {
    const help = run(dir, ['show', '--help']).stdout;
    expect(help).toMatch(/--reveal --reason "complaint #1234"/);
    expect(help).toMatch(/content_accessed record/);
  });
});

/** The same ledger files under a second config file with other capture or key settings. */
function ledgerCopy(dir: string, extra: string): string {
  const path = join(dir, `alt-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(path, configText(extra));
  return path;
}

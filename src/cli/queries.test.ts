import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordInput } from '../record/types.js';
import { ledgerDir, run as runCli } from './test-support/cli.js';

const run = (dir: string, ...args: string[]) => runCli(dir, args);

const EVIL_MODEL = 'evil\u001b[2J\nFAKE: verify OK\u009b31m';
const RECENT = new Date(Date.now() - 10 * 60_000).toISOString();

const KNOWN: RecordInput[] = [
  {
    timestamp: '2026-03-01T09:00:00.000Z',
    provider: 'openai',
    model: 'gpt-4o',
    user: 'alice',
    session: 's1',
    apiKey: 'sk-alpha-0123456789abcdefghij',
    status: 'success',
    inputTokens: 100,
    outputTokens: 20,
    latencyMs: 400,
    costUsd: 0.0012,
    traceId: 'trace-a',
    requestId: 'req-a',
  },
  { timestamp: '2026-03-01T09:00:00.120Z', kind: 'event', eventType: 'policy_evaluated', component: 'policy', traceId: 'trace-a', requestId: 'req-a' },
  {
    timestamp: '2026-03-01T09:00:00.450Z',
    kind: 'event',
    eventType: 'request_completed',
    component: 'gateway',
    traceId: 'trace-a',
    requestId: 'req-a',
    status: 'success',
  },
  {
    timestamp: '2026-03-02T10:00:00.000Z',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    user: 'bob',
    status: 'error',
    error: 'upstream said "no", then\nfailed, badly',
    inputTokens: 50,
    latencyMs: 900,
    traceId: 'trace-b',
    requestId: 'req-b',
  },
  {
    timestamp: '2026-03-03T11:00:00.000Z',
    provider: 'openai',
    model: EVIL_MODEL,
    user: '=cmd|calc',
    status: 'blocked',
    inputTokens: 7,
    latencyMs: 5,
    metadata: { note: 'meta\u001b]0;pwned\u0007' },
    traceId: 'trace-c',
    requestId: 'req-c',
  },
  {
    timestamp: RECENT,
    provider: 'openai',
    model: 'gpt-4o',
    user: 'alice',
    status: 'success',
    inputTokens: 30,
    outputTokens: 3,
    latencyMs: 200,
    costUsd: 0.0004,
    traceId: 'trace-d',
    requestId: 'req-d',
  },
];

interface Json {
  records: { index: number; envelope: Record<string, unknown> }[];
  nextCursor?: string;
}

/** No raw control character but the line ends, and no C1 control, may reach the terminal. */
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('llm-ledger query commands', () => {
  let dir = '';
  let empty = '';
  const ids: string[] = [];
  beforeAll(async () => {
    [dir, empty] = await Promise.all([ledgerDir(KNOWN), ledgerDir([])]);
    const json = JSON.parse(run(dir, 'search', '--json').stdout) as Json;
    ids.push(...json.records.map((r) => r.envelope.id as string).reverse());
  }, 60_000);

  describe('search', () => {
    it('prints a table of the matching records, newest first', () => {
      const { code, stdout } = run(dir, 'search', '--model', 'gpt-4o');
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^INDEX\s+TIME \(UTC\)\s+KIND\s+USER\s+MODEL\s+STATUS\s+TOKENS IN\/OUT\s+LATENCY\s+COST\s+ID$/);
      expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(['5', '0']);
      expect(lines[2]).toMatch(/2026-03-01T09:00:00.000Z\s+llm.call\s+alice\s+gpt-4o\s+success\s+100\/20\s+400 ms\s+\$0.001200/);
    });

    it.each<[string[], number[]]>([
      [
        ['--user', 'alice'],
        [5, 0],
      ],
      [['--provider', 'anthropic'], [3]],
      [['--status', 'error'], [3]],
      [
        ['--kind', 'event'],
        [2, 1],
      ],
      [['--event-type', 'policy_evaluated'], [1]],
      [
        ['--trace', 'trace-a'],
        [2, 1, 0],
      ],
      [['--request-id', 'req-b'], [3]],
      [['--session', 's1'], [0]],
      [['--key-prefix', 'sk-al'], [0]],
      [
        ['--since', '2026-03-02'],
        [5, 4, 3],
      ],
      [
        ['--since', '2026-03-01T09:00:00.120Z', '--until', '2026-03-02T10:00:00Z'],
        [2, 1],
      ],
      [['--since', '2026-03-01T10:00:00.120+01:00', '--until', '2026-03-01T09:00:00.121Z'], [1]],
      [['--since', '1h'], [5]],
      [
        ['--until', '30d', '--kind', 'llm.call'],
        [4, 3, 0],
      ],
      [['--model', 'gpt-4o', '--user', 'bob'], []],
    ])('filters %j', (args, expected) => {
      const { code, stdout } = run(dir, 'search', '--json', ...args);
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as Json).records.map((r) => r.index)).toEqual(expected);
    });

    it('pages with --limit and the printed --cursor', () => {
      const first = run(dir, 'search', '--limit', '4');
      const cursor = /add --cursor (\S+) for the next page/.exec(first.stdout)?.[1];
      expect(cursor).toBeDefined();
      const second = JSON.parse(run(dir, 'search', '--limit', '4', '--cursor', cursor!, '--json').stdout) as Json;
      expect(second.records.map((r) => r.index)).toEqual([1, 0]);
      expect(second.nextCursor).toBeUndefined();
    });

    it.each([
      ['--since', 'yesterday'],
      ['--until', '2026-03-01T09:00:00'],
      ['--since', '2026-02-30'],
    ])('refuses the bad date %s %s with exit 2, naming the accepted forms', (flag, value) => {
      const { code, stdout, stderr } = run(dir, 'search', flag, value);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        new RegExp(`${flag} "${value}" is not a date: use an ISO 8601 date or time in UTC .*or a relative age \\(30s, 15m, 24h, 7d, 2w\\)`),
      );
    });

    it.each([
      [['--limit', '0'], /--limit.*must be a whole number from 1 to 1000/],
      [['--status', 'weird'], /argument 'weird' is invalid. Allowed choices are success, error, blocked, escalated, aborted/],
      [['--bogus'], /unknown option '--bogus'/],
      [['--cursor', 'not-a-cursor'], /cursor is not one this ledger issued/],
    ])('exits 2 on bad usage %j', (args, message) => {
      const { code, stderr } = run(dir, 'search', ...args);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
    });

    it('says so when nothing matches, and on an empty ledger', () => {
      expect(run(dir, 'search', '--user', 'nobody')).toMatchObject({ code: 0, stdout: 'No records match.\n' });
      expect(run(empty, 'search')).toMatchObject({ code: 0, stdout: 'No records match.\n' });
      expect(JSON.parse(run(empty, 'search', '--json').stdout)).toEqual({ records: [] });
    });
  });

  describe('show', () => {
    it('prints one envelope, a field per line', () => {
      const { code, stdout } = run(dir, 'show', ids[3]!);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^FIELD\s+VALUE\nindex\s+3\n/);
      expect(stdout).toMatch(/\nmodel\s+claude-sonnet-4\n/);
      expect(stdout).toMatch(/\nerror\s+upstream said "no", then\\u000afailed, badly\n/);
      expect(stdout).toMatch(new RegExp(`\\nid\\s+${ids[3]}\\n`));
      expect(stdout).not.toMatch(/inputTokens\s+undefined/);
    });

    it('prints JSON with --json', () => {
      const shown = JSON.parse(run(dir, 'show', ids[0]!, '--json').stdout) as Json['records'][number];
      expect(shown.index).toBe(0);
      expect(shown.envelope).toMatchObject({ id: ids[0], model: 'gpt-4o', user: 'alice', traceId: 'trace-a', apiKeyPrefix: 'sk-alpha' });
      expect(JSON.stringify(shown)).not.toMatch(/sk-alpha-0123456789/);
    });

    it('shows every record of a request in log order with --request-id', () => {
      const records = JSON.parse(run(dir, 'show', '--request-id', 'req-a', '--json').stdout) as Json['records'];
      expect(records.map((r) => r.index)).toEqual([0, 1, 2]);
      expect(run(dir, 'show', '--request-id', 'req-a').stdout.match(/^FIELD/gm)).toHaveLength(3);
    });

    it('exits 4 with a clear message for an unknown id or request id', () => {
      const byId = run(dir, 'show', '01900000-0000-7000-8000-000000000000');
      expect(byId.code).toBe(4);
      expect(byId.stderr).toMatch(/no record with id 01900000-0000-7000-8000-000000000000; find ids with 'llm-ledger search'/);
      expect(run(dir, 'show', '--request-id', 'nope')).toMatchObject({ code: 4, stderr: expect.stringMatching(/no record with request id nope/) });
      expect(run(empty, 'show', ids[0]!).code).toBe(4);
      expect(run(dir, 'prove', '01900000-0000-7000-8000-000000000000')).toMatchObject({ code: 4, stderr: expect.stringMatching(/no record with id/) });
    });

    it('exits 2 when given both an id and --request-id, or neither', () => {
      expect(run(dir, 'show').stderr).toMatch(/give either a record id or --request-id/);
      expect(run(dir, 'show').code).toBe(2);
      expect(run(dir, 'show', ids[0]!, '--request-id', 'req-a').code).toBe(2);
    });
  });

  describe('trace', () => {
    it('prints the records of one trace in log order with offsets from the first', () => {
      const { code, stdout } = run(dir, 'trace', 'trace-a');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^trace trace-a: 3 entries in 3 records over 450 ms, from 2026-03-01T09:00:00.000Z\n/);
      const rows = stdout.trim().split('\n').slice(3);
      expect(rows[0]).toMatch(/^\s*\+0 ms\s+0\s+llm.call\s+-\s+success\s+gpt-4o\s+400 ms\s+-$/);
      expect(rows[1]).toMatch(/^\s*\+120 ms\s+1\s+event policy_evaluated\s+policy\s+-\s+-\s+-\s+-$/);
      expect(rows[2]).toMatch(/^\s*\+450 ms\s+2\s+event request_completed\s+gateway\s+success\s+-\s+-\s+-$/);
      expect((JSON.parse(run(dir, 'trace', 'trace-a', '--json').stdout) as Json['records']).map((r) => r.index)).toEqual([0, 1, 2]);
    });

    it('exits 4 for a trace with no records', () => {
      const { code, stderr } = run(empty, 'trace', 'trace-a');
      expect(code).toBe(4);
      expect(stderr).toMatch(/no records with trace id trace-a/);
    });
  });

  describe('stats', () => {
    it('prints totals over calls, and one row per group with --by', () => {
      const { code, stdout } = run(dir, 'stats', '--by', 'user');
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^USER\s+CALLS\s+ERRORS\s+BLOCKED\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST\s+P50 MS\s+P95 MS\s+P99 MS$/);
      expect(lines[1]).toMatch(/^alice\s+2\s+0.0%\s+0.0%\s+130\s+23\s+\$0.001600\s+200\s+400\s+400$/);
      expect(lines.at(-1)).toMatch(/^total\s+4\s+25.0%\s+25.0%\s+187\s+23\s+\$0.001600\s+200\s+900\s+900$/);
    });

    it('prints the report as JSON and takes the search filters', () => {
      const report = JSON.parse(run(dir, 'stats', '--by', 'model', '--until', '2026-03-03', '--json').stdout) as {
        totals: { requests: number };
        groups: { key: string }[];
      };
      expect(report.totals.requests).toBe(2);
      expect(report.groups.map((g) => g.key)).toEqual(['claude-sonnet-4', 'gpt-4o']);
    });

    it('says so on an empty ledger and refuses an unknown grouping', () => {
      expect(run(empty, 'stats')).toMatchObject({ code: 0, stdout: 'No calls match.\n' });
      expect(run(dir, 'stats', '--by', 'colour').code).toBe(2);
    });
  });

  describe('anomalies', () => {
    it('reports the window, the baseline and what it found', () => {
      const { code, stdout } = run(dir, 'anomalies', '--until', '2026-03-03T12:00:00Z', '--window', '2d', '--baseline', '2d');
      expect(code).toBe(0);
      expect(stdout).toMatch(
        /^Window 2026-03-01T12:00:00.000Z .. 2026-03-03T12:00:00.000Z, baseline 2026-02-27T12:00:00.000Z .. 2026-03-01T12:00:00.000Z \(buckets of 2h\), 3 sigma\./,
      );
      expect(stdout).toMatch(/New in the window \(no baseline to compare with\), by user:\nUSER\s+TOKENS\s+CALLS\n/);
      const report = JSON.parse(run(dir, 'anomalies', '--by', 'model', '--sigma', '2', '--json').stdout) as { by: string; sigma: number; bucketMs: number };
      expect(report).toMatchObject({ by: 'model', sigma: 2, bucketMs: 3_600_000 });
    });

    it('explains its method in --help and refuses bad durations', () => {
      const help = run(dir, 'anomalies', '--help').stdout;
      expect(help).toMatch(/standard deviation/);
      expect(help).toMatch(/binomial/);
      expect(run(dir, 'anomalies', '--window', '1 day')).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/--window "1 day" is not a length of time: use a number and a unit/),
      });
      expect(run(dir, 'anomalies', '--window', '7d', '--baseline', '1d')).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/baseline must be at least as long as the window/),
      });
    });
  });

  describe('export', () => {
    it('streams every matching record as JSON Lines, oldest first', () => {
      const { code, stdout } = run(dir, 'export');
      expect(code).toBe(0);
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(lines[3]).toMatchObject({ index: 3, id: ids[3], model: 'claude-sonnet-4', error: 'upstream said "no", then\nfailed, badly' });
      expect(lines[4]!.model).toBe(EVIL_MODEL);
    });

    it('writes RFC 4180 CSV to a 0600 file with --out, with the search filters', () => {
      const { code, stdout } = run(dir, 'export', '--format', 'csv', '--kind', 'llm.call', '--out', 'calls.csv');
      expect(code).toBe(0);
      expect(stdout).toBe('Exported 4 records to calls.csv (csv).\n');
      expect(statSync(join(dir, 'calls.csv')).mode & 0o777).toBe(0o600);
      const csv = readFileSync(join(dir, 'calls.csv'), 'utf8');
      const rows = csv.split('\r\n');
      expect(rows[0]).toMatch(/^index,id,ts,kind,event_type,component,trace_id,request_id,user,/);
      expect(rows.at(-1)).toBe('');
      // The error cell holds a quote, a comma and a newline: quoted, quotes doubled, newline kept.
      expect(csv).toContain(`,"upstream said ""no"", then\nfailed, badly",`);
      // A cell a spreadsheet would run as a formula is defused.
      expect(csv).toContain(`,'=cmd|calc,`);
      expect(csv).toContain(`,"{""note"":""meta\\u001b]0;pwned\\u0007""}"`);
    });

    it('exports nothing but the header from an empty ledger, and refuses an unwritable --out', () => {
      expect(run(empty, 'export')).toMatchObject({ code: 0, stdout: '' });
      expect(run(empty, 'export', '--format', 'csv').stdout).toMatch(/^index,id,.*,metadata,capture\r\n$/);
      const bad = run(empty, 'export', '--out', join(empty, 'no-such-dir', 'x.jsonl'));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/cannot write .*no-such-dir.*x\.jsonl/);
    });

    it('shows no progress bar when stderr is not a terminal', () => {
      expect(run(dir, 'export', '--out', 'all.jsonl').stderr).toBe('');
    });
  });

  describe('verify', () => {
    it('passes on an intact ledger with no progress bar off a terminal, and on an empty one', () => {
      expect(run(dir, 'verify')).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^OK: 6 records verified/) });
      expect(run(empty, 'verify')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: 0 records verified/) });
    });
  });

  describe('crafted text', () => {
    it('cannot forge lines or send terminal escapes through search, show, trace or stats', () => {
      const outputs = [
        run(dir, 'search').stdout,
        run(dir, 'show', ids[4]!).stdout,
        run(dir, 'trace', 'trace-c').stdout,
        run(dir, 'stats', '--by', 'model').stdout,
        run(dir, 'anomalies', '--by', 'model', '--until', '2026-03-04T00:00:00Z').stdout,
      ];
      for (const output of outputs) {
        expect(output).not.toMatch(RAW_CONTROLS);
        expect(output).not.toMatch(/^FAKE/m);
      }
      expect(outputs[0]).toContain('evil\\u001b[2J\\u000aFAKE: verify OK\\u009b31m');
      expect(outputs[1]).toContain('{"note":"meta\\u001b]0;pwned\\u0007"}');
    });

    it('keeps JSON output free of raw control characters too, C1 included', () => {
      for (const args of [
        ['search', '--json'],
        ['show', ids[4]!, '--json'],
        ['trace', 'trace-c', '--json'],
        ['stats', '--by', 'model', '--json'],
        ['export'],
      ]) {
        const { stdout } = run(dir, ...args);
        expect(stdout).not.toMatch(RAW_CONTROLS);
        expect(stdout).toContain('\\u009b31m');
      }
    });
  });

  it('has --help with an example on every command', () => {
    for (const command of [
      'search',
      'show',
      'trace',
      'stats',
      'anomalies',
      'export',
      'verify',
      'prove',
      'verify-proof',
      'demo',
      'erase',
      'cleanup',
      'init',
      'keys',
      'keys generate',
      'keys rotate',
      'review',
      'review list',
      'review show',
      'review approve',
      'review reject',
      'mcp',
      'serve',
    ]) {
      const { code, stdout } = run(dir, ...command.split(' '), '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`Examples?:\\n\\s+\\$ llm-ledger ${command}`));
      expect(stdout).toMatch(/--config <file>/);
    }
    expect(run(dir, '--help').stdout).toMatch(/Exit codes: 0 success, 1 verification failed.*\n.*\n4 no record/);
  });
});

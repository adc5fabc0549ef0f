import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../record/types.js';
import { BIN, ledgerDir, run } from './test-support/cli.js';

/*
 * The privacy promise as an auditor meets it: text a capture mode does not keep in the clear never
 * comes out of any command, in any format. Each planted string is unique to this run, so a hit
 * can only be a leak.
 */
const tag = randomBytes(6).toString('hex');
const PLANTED = {
  system: `You are the payroll assistant ${tag}-SYSTEM.`,
  input: `Transfer the bonus of Jane Roe ${tag}-PROMPT to account 4.`,
  output: `Done; ${tag}-ANSWER was booked.`,
  header: `${tag}-HEADER-VALUE`,
};
// A key shaped like a real one: only its SHA-256 and a short prefix may ever be kept.
const API_KEY = `sk-proj-${tag}Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk`;
const KEY_TAIL = API_KEY.slice(12);

const calls = (): RecordInput[] => [
  {
    model: 'gpt-4o',
    provider: 'openai',
    user: 'jane',
    apiKey: API_KEY,
    traceId: `trace-${tag}`,
    requestId: `req-${tag}`,
    content: { system: PLANTED.system, input: PLANTED.input, output: PLANTED.output },
    headers: { 'x-team': PLANTED.header },
    status: 'error',
    // An upstream error message is kept (bounded), so it must not be where the prompt hides.
    error: 'upstream timed out',
    inputTokens: 12,
    outputTokens: 7,
  },
  { kind: 'event', eventType: 'request_completed', component: 'gateway', traceId: `trace-${tag}`, requestId: `req-${tag}`, status: 'error' },
];

const withoutIds = (text: string) => text.replaceAll(`req-${tag}`, 'REQ').replaceAll(`trace-${tag}`, 'TRACE');
const forbidden = (text: string): string[] => [...Object.values(PLANTED), API_KEY, KEY_TAIL, tag].filter((s) => text.includes(s));

/** Every CLI command an auditor can run on the ledger, in every output format. */
function everyOutput(dir: string, id: string): Record<string, string> {
  const commands: string[][] = [
    ['search'],
    ['search', '--json'],
    ['search', '--key-prefix', 'sk-proj', '--json'],
    ['show', id],
    ['show', id, '--json'],
    ['show', '--request-id', `req-${tag}`],
    ['show', '--request-id', `req-${tag}`, '--json'],
    ['trace', `trace-${tag}`],
    ['trace', `trace-${tag}`, '--json'],
    ['stats', '--by', 'user'],
    ['stats', '--by', 'model', '--json'],
    ['anomalies', '--json'],
    ['export'],
    ['export', '--format', 'csv'],
    ['verify', '--json'],
    ['prove', id],
  ];
  const outputs: Record<string, string> = {};
  for (const args of commands) {
    const { code, stdout, stderr } = run(dir, args);
    expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
    // The request id and trace id embed the tag on purpose (they are envelope facts); they are not what is looked for.
    outputs[withoutIds(args.join(' '))] = withoutIds(stdout + stderr);
  }
  return outputs;
}

async function mcpOutputs(dir: string, id: string): Promise<string[]> {
  const client = new Client({ name: 'hash-only-test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, '--config', join(dir, 'llm-ledger.yaml'), 'mcp'], stderr: 'ignore' }));
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['audit_search', 'audit_show', 'audit_stats', 'audit_trace', 'audit_verify']);
    const results: CallToolResult[] = [];
    for (const [name, args] of [
      ['audit_search', {}],
      ['audit_show', { id }],
      ['audit_show', { requestId: `req-${tag}` }],
      ['audit_trace', { traceId: `trace-${tag}` }],
      ['audit_stats', { by: 'user' }],
      ['audit_verify', {}],
    ] as const) {
      results.push((await client.callTool({ name, arguments: args })) as CallToolResult);
    }
    // No argument asks for content: the schemas are strict, so one that tries is refused.
    const asked = (await client.callTool({ name: 'audit_show', arguments: { id, reveal: true, reason: 'curious' } })) as CallToolResult;
    expect(asked.isError).toBe(true);
    results.push(asked);
    return results.map((r) => withoutIds(JSON.stringify(r)));
  } finally {
    await client.close();
  }
}

describe('what no query command or MCP tool ever prints', () => {
  it('hash-only capture (the default): no prompt, response, header or API key in any output, nor in the ledger files', async () => {
    const dir = await ledgerDir(calls(), 'capture:\n  headers: hash\n  headers_allow: [x-team]\n');
    const id = (JSON.parse(run(dir, ['search', '--kind', 'llm.call', '--json']).stdout) as { records: { envelope: { id: string; apiKeyPrefix: string } }[] })
      .records[0]!.envelope;
    // The prefix is kept and is all that is kept of the key.
    expect(API_KEY.startsWith(id.apiKeyPrefix)).toBe(true);
    expect(id.apiKeyPrefix.length).toBeLessThan(12);

    const outputs = everyOutput(dir, id.id);
    for (const [command, output] of Object.entries(outputs)) expect(forbidden(output), command).toEqual([]);
    // The outputs did carry the record: the check looked at real output, not at error messages.
    expect(outputs['show --request-id REQ --json']).toContain('"digests"');
    expect(outputs['export --format csv']).toMatch(/digest_input/);

    const reveal = run(dir, ['show', id.id, '--reveal', '--reason', 'looking']);
    expect(reveal.code).toBe(4);
    expect(forbidden(reveal.stdout + reveal.stderr)).toEqual([]);

    expect(run(dir, ['export', '--format', 'csv', '--out', 'all.csv']).code).toBe(0);
    expect(run(dir, ['export', '--out', 'all.jsonl']).code).toBe(0);
    for (const file of readdirSync(dir).filter((f) => !f.endsWith('.yaml') && f !== 'anchor')) {
      expect(forbidden(withoutIds(readFileSync(join(dir, file)).toString('latin1'))), file).toEqual([]);
    }

    for (const output of await mcpOutputs(dir, id.id)) expect(forbidden(output)).toEqual([]);
  });

  it('encrypted capture: the text is stored, but only show --reveal by a key holder ever prints it', async () => {
    const kek = (d: string) => writeFileSync(join(d, 'k.kek'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const dir = await ledgerDir(
      calls(),
      'capture:\n  prompts: encrypted\n  responses: encrypted\n  headers: encrypted\n  headers_allow: [x-team]\nencryption:\n  kek_file: ./k.kek\n',
      {},
      kek,
    );
    const id = (JSON.parse(run(dir, ['search', '--kind', 'llm.call', '--json']).stdout) as { records: { envelope: { id: string } }[] }).records[0]!.envelope.id;

    for (const [command, output] of Object.entries(everyOutput(dir, id))) expect(forbidden(output), command).toEqual([]);
    for (const output of await mcpOutputs(dir, id)) expect(forbidden(output)).toEqual([]);

    // The content is there for a key holder, which shows the checks above looked where it could have leaked.
    const revealed = JSON.parse(run(dir, ['show', id, '--reveal', '--reason', 'audit', '--json']).stdout) as { content: Record<string, unknown> };
    expect(revealed.content).toEqual({ system: PLANTED.system, input: PLANTED.input, output: PLANTED.output, headers: { 'x-team': PLANTED.header } });
    expect(forbidden(JSON.stringify(revealed.content)).sort()).toEqual([...Object.values(PLANTED), tag].sort());
  });
});

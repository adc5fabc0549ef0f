import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from './config/schema.js';

/*
 * The documentation is part of the product: README.md, CONTRIBUTING.md and docs/**.md are checked
 * here so they cannot drift from the code.
 *
 * - Every relative link resolves to a file or folder inside the repository, and a link with an
 *   anchor (`file.md#heading`, `#heading`) finds that heading in its target, by GitHub's slugs.
 * - Every backticked `src/...`, `docs/...` or `bench/...` path names a file or folder that exists
 *   (a glob such as `src/ledger/tamper-suite.*.test.ts` must match at least one).
 * - The README stays under 300 lines, and each of its TypeScript/JavaScript snippets runs: built
 *   against `dist/index.js` (npm test builds before vitest), in a fresh directory, with the OpenAI
 *   and Anthropic SDKs pointed at a local fake upstream; the ledger it leaves must verify.
 * - Shell snippets are not run: the `npm run` scripts and `llm-ledger` commands they name must exist.
 * - docs/configuration.md lists every key of the configuration schema, and nothing else.
 */

const exec = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST_INDEX = join(ROOT, 'dist', 'index.js');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

function markdownFiles(): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

interface Block {
  lang: string;
  code: string;
  line: number;
}

interface Markdown {
  /** Lines outside fenced code blocks, with their 1-based numbers. */
  prose: { text: string; line: number }[];
  blocks: Block[];
  headings: string[];
}

function parseMarkdown(text: string): Markdown {
  const prose: Markdown['prose'] = [];
  const blocks: Block[] = [];
  const headings: string[] = [];
  let fence: { marker: string; lang: string; line: number; lines: string[] } | undefined;
  text.split('\n').forEach((line, i) => {
    const opening = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (fence) {
      if (line.trim().startsWith(fence.marker)) {
        blocks.push({ lang: fence.lang, code: fence.lines.join('\n'), line: fence.line });
        fence = undefined;
      } else fence.lines.push(line);
      return;
    }
    if (opening) {
      fence = { marker: opening[1]!, lang: opening[2]!.toLowerCase(), line: i + 1, lines: [] };
      return;
    }
    prose.push({ text: line, line: i + 1 });
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) headings.push(heading[1]!);
  });
  return { prose, blocks, headings };
}

/** GitHub's anchor for a heading: inline markup dropped, lower case, punctuation removed, spaces to hyphens. */
function slug(heading: string): string {
  const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
  return plain
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(headings: string[]): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const heading of headings) {
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const docs = new Map(markdownFiles().map((file) => [file, parseMarkdown(readFileSync(join(ROOT, file), 'utf8'))]));

/** Inline code spans of a prose line. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)([^`]+?)\1/g)].map((m) => m[2]!.trim());
}

function globMatches(pattern: string): boolean {
  const dir = pattern.slice(0, pattern.lastIndexOf('/'));
  const last = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (/[*{]/.test(dir) || !existsSync(join(ROOT, dir))) return false;
  const regex = new RegExp(
    `^${last
      .replace(/[.+^$()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\{([^}]*)\}/g, (_, alternatives: string) => `(${alternatives.split(',').join('|')})`)}$`,
  );
  return readdirSync(join(ROOT, dir)).some((name) => regex.test(name));
}

describe('documentation links and paths', () => {
  it.each([...docs.keys()])('%s: relative links resolve inside the repository, anchors to headings', (file) => {
    const bad: string[] = [];
    for (const { text, line } of docs.get(file)!.prose) {
      // Code spans may hold `](`; replace them so only real links are read.
      const withoutCode = text.replace(/(`+)[^`]+?\1/g, 'code');
      for (const match of withoutCode.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = match[1]!;
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const resolved = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURI(path));
        const inside = relative(ROOT, resolved);
        if (inside.startsWith('..') || inside.split(sep)[0] === '..') {
          bad.push(`line ${line}: ${target} points outside the repository`);
          continue;
        }
        if (!existsSync(resolved)) {
          bad.push(`line ${line}: ${target} does not exist`);
          continue;
        }
        if (anchor !== undefined && anchor !== '') {
          const key = inside.split(sep).join('/');
          const targetDoc = docs.get(key) ?? (key.endsWith('.md') && statSync(resolved).isFile() ? parseMarkdown(readFileSync(resolved, 'utf8')) : undefined);
          if (targetDoc && !anchorsOf(targetDoc.headings).has(anchor)) bad.push(`line ${line}: ${target}: no heading with the anchor #${anchor}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it.each([...docs.keys()])('%s: backticked src/, docs/ and bench/ paths exist', (file) => {
    const bad: string[] = [];
    for (const { text, line } of docs.get(file)!.prose) {
      for (const span of codeSpans(text)) {
        if (!/^(src|docs|bench)\/\S*$/.test(span) || span.includes('...') || span.includes('<')) continue;
        const found = /[*{]/.test(span) ? globMatches(span) : existsSync(join(ROOT, span));
        if (!found) bad.push(`line ${line}: ${span}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('is under 300 lines', () => {
    const lines = readme.endsWith('\n') ? readme.split('\n').length - 1 : readme.split('\n').length;
    expect(lines).toBeLessThan(300);
  });

  describe('TypeScript and JavaScript snippets run', () => {
    const snippets = docs.get('README.md')!.blocks.filter((b) => ['ts', 'typescript', 'js', 'javascript', 'mjs'].includes(b.lang));
    let upstream: Server;
    let upstreamUrl = '';

    beforeAll(async () => {
      upstream = createServer(fakeUpstream);
      await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
      upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((done) => upstream.close(() => done())));

    it('has snippets', () => expect(snippets.length).toBeGreaterThan(0));

    it.each(snippets.map((s) => [s.line, s] as const))(
      'the snippet at line %i',
      async (_line, snippet) => {
        expect(existsSync(DIST_INDEX), 'dist/index.js is missing: run npm run build (npm test does)').toBe(true);
        const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-readme-'));
        try {
          // The package's own node_modules, so `openai` and `@anthropic-ai/sdk` resolve as in an app.
          symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
          const js = ts.transpileModule(snippet.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
          writeFileSync(join(dir, 'snippet.mjs'), js.replace(/(from\s+)(['"])llm-ledger\2/g, `$1'${pathToFileURL(DIST_INDEX).href}'`));
          const env = snippetEnv(upstreamUrl);
          const run = await exec(process.execPath, ['snippet.mjs'], { cwd: dir, env, timeout: 90_000 });
          expect(run.stdout).not.toContain('Error');
          // Whatever it recorded is there, and the log verifies.
          if (existsSync(join(dir, 'llm-ledger.db'))) {
            writeFileSync(join(dir, 'check.mjs'), CHECK.replace('DIST', pathToFileURL(DIST_INDEX).href));
            const check = JSON.parse((await exec(process.execPath, ['check.mjs'], { cwd: dir, env, timeout: 60_000 })).stdout) as {
              records: number;
              ok: boolean;
            };
            expect(check.ok).toBe(true);
            expect(check.records).toBeGreaterThan(0);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      120_000,
    );
  });
});

const CHECK = `import { openLedger } from 'DIST';
const ledger = await openLedger(undefined, { readOnly: true });
const { records } = await ledger.search({ limit: 1000 });
const { ok } = await ledger.verify();
await ledger.close();
console.log(JSON.stringify({ records: records.length, ok }));
`;

function snippetEnv(upstreamUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('LLM_LEDGER_') && !name.startsWith('OPENAI_') && !name.startsWith('ANTHROPIC_')) env[name] = value;
  }
  return {
    ...env,
    OPENAI_API_KEY: 'sk-readme-snippet-0123456789abcdef',
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-readme-snippet-0123456789abcdef',
    ANTHROPIC_BASE_URL: upstreamUrl,
  };
}

/** Just enough of the OpenAI chat and Anthropic messages APIs for the README's SDK snippet. */
function fakeUpstream(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    const request = (body === '' ? {} : JSON.parse(body)) as { model?: string; stream?: boolean };
    const model = request.model ?? 'unknown';
    const sse = (events: { event?: string; data: unknown }[]): void => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
      res.end();
    };
    if (req.url?.startsWith('/v1/chat/completions')) {
      const usage = { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, finish_reason: 'stop', logprobs: null }],
            usage,
          }),
        );
        return;
      }
      const chunk = (choices: unknown[], extra: object = {}) => ({
        data: { id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model, choices, ...extra },
      });
      sse([
        chunk([{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
        chunk([], { usage }),
        { data: '[DONE]' },
      ]);
      return;
    }
    if (req.url?.startsWith('/v1/messages')) {
      const message = { id: 'msg_1', type: 'message', role: 'assistant', model, stop_sequence: null };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ ...message, content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 1 } }),
        );
        return;
      }
      sse([
        {
          event: 'message_start',
          data: { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } },
        },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ]);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'not_found' } }));
  });
}

describe('shell snippets name real scripts and commands', () => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
  const commands = new Map<string, Set<string>>();

  /** The command names a `--help` lists under "Commands:". */
  async function listed(args: string[]): Promise<Set<string>> {
    const { stdout } = await exec(process.execPath, [CLI, ...args, '--help'], { cwd: ROOT });
    const section = stdout.split(/^Commands:$/m)[1]?.split(/\n\s*\n/)[0] ?? '';
    return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help'));
  }

  beforeAll(async () => {
    expect(existsSync(CLI), 'dist/cli/main.js is missing: run npm run build (npm test does)').toBe(true);
    commands.set('', await listed([]));
    for (const group of ['keys', 'review']) commands.set(group, await listed([group]));
  }, 60_000);

  const shellBlocks = [...docs].flatMap(([file, doc]) =>
    doc.blocks.filter((b) => ['sh', 'bash', 'shell', 'console'].includes(b.lang)).map((b) => [file, b.line, b] as const),
  );

  it.each(shellBlocks)('%s, the snippet at line %i', (_file, _line, block) => {
    const bad: string[] = [];
    for (const line of block.code.split('\n')) {
      for (const m of line.matchAll(/\bnpm run ([\w:-]+)/g)) if (!scripts.includes(m[1]!)) bad.push(`npm run ${m[1]}: no such script`);
      for (const m of line.matchAll(/(?:^|[\s$(])llm-ledger((?:\s+--config\s+\S+)?)\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?/g)) {
        const [, , command, sub] = m;
        if (!commands.get('')!.has(command!)) bad.push(`llm-ledger ${command}: no such command`);
        else if (commands.has(command!) && sub !== undefined && !commands.get(command!)!.has(sub)) bad.push(`llm-ledger ${command} ${sub}: no such command`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('docs/cli.md has a section for every command', () => {
    const headings = new Set(docs.get('docs/cli.md')!.headings);
    const missing: string[] = [];
    for (const [group, names] of commands)
      for (const name of names)
        if (!headings.has(`\`llm-ledger ${group === '' ? name : `${group} ${name}`}\``)) missing.push(group === '' ? name : `${group} ${name}`);
    expect(missing).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  /** Every key path of the schema: `store.type`, `gateway.keys[].sha256`, `gateway.providers.<name>.base_url`. */
  function schemaKeys(): Set<string> {
    const keys = new Set<string>();
    type Def = {
      type: string;
      shape?: Record<string, unknown>;
      in?: unknown;
      innerType?: unknown;
      element?: unknown;
      valueType?: unknown;
      options?: unknown[];
    };
    const walk = (schema: unknown, path: string): void => {
      const def = (schema as { _zod: { def: Def } })._zod.def;
      switch (def.type) {
        case 'object':
          for (const [key, value] of Object.entries(def.shape!)) {
            const at = path === '' ? key : `${path}.${key}`;
            keys.add(at);
            walk(value, at);
          }
          break;
        case 'pipe':
          walk(def.in, path);
          break;
        case 'optional':
        case 'default':
        case 'prefault':
        case 'nullable':
        case 'readonly':
        case 'catch':
        case 'nonoptional':
          walk(def.innerType, path);
          break;
        case 'array':
          walk(def.element, `${path}[]`);
          break;
        case 'record':
          walk(def.valueType, `${path}.<name>`);
          break;
        case 'union':
          for (const option of def.options!) walk(option, path);
          break;
      }
    };
    walk(configSchema(ROOT), '');
    return keys;
  }

  const doc = docs.get('docs/configuration.md')!;
  const keys = schemaKeys();

  it('the schema walk finds the keys', () => {
    expect(keys.size).toBeGreaterThan(100);
    expect(keys).toContain('store.type');
    expect(keys).toContain('gateway.policies[].per_user_usd');
  });

  it('documents every key of the schema', () => {
    const documented = new Set(doc.prose.flatMap(({ text }) => codeSpans(text)));
    expect([...keys].filter((key) => !documented.has(key))).toEqual([]);
  });

  it('lists no key the schema does not have', () => {
    const listed = doc.prose
      .map(({ text }) => /^\|\s*`([^`]+)`\s*\|/.exec(text)?.[1])
      .filter((key): key is string => key !== undefined && /^[a-z_]+(\.|$)/.test(key) && keys.has(key.split(/[.[]/)[0]!));
    expect(listed.length).toBeGreaterThan(100);
    expect(listed.filter((key) => !keys.has(key))).toEqual([]);
  });
});

/**
 * Writes the format-v1 fixture (src/ledger/test-support/fixtures/format-v1/): a small ledger as
 * this version of the gateway and the library write it, one record per event, on SQLite and on
 * JSONL, for `src/ledger/format-fixture.test.ts` to open with later versions. Run from the
 * repository root:
 *
 *   npx node --experimental-transform-types --import ./src/ledger/test-support/ts-hooks.ts src/ledger/test-support/make-format-fixture.ts
 *
 * DO NOT run it again once the record format has changed: the fixture stands for the format as
 * written before that change (see the fixture's README.md). It keeps the committed test keys in
 * keys/ (creating them only when absent) and rewrites sqlite/ and jsonl/.
 *
 * The traffic goes through the real gateway (`startGateway`) in front of the simulated upstream,
 * with the official OpenAI and Anthropic SDKs, and is the same for both stores; see CALLS below.
 * The SQLite ledger captures content encrypted (a few calls lower it to hash-only); after the
 * traffic it gets a reveal, an erasure and a content retention pass. JSONL keeps no content, so
 * its ledger is hash-only and has none of these three.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { loadConfig } from '../../config/load.js';
import { startGateway } from '../../gateway/http/server.js';
import { generateSignerKey } from '../../log/checkpoint.js';
import type { Policy } from '../../policy/types.js';
import { startFakeUpstream } from '../../providers/simulated/fake-upstream.js';
import type { LedgerReader } from '../ledger.js';
import { openLedger } from '../open-ledger.js';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'format-v1');
export const FIXTURE_ORIGIN = 'fixture.llm-ledger.test/format-v1';
/** The environment variable the configs read the simulated upstream's URL from (a closed port when unset). */
export const UPSTREAM_ENV = 'FORMAT_FIXTURE_UPSTREAM';
const REVIEWER_ENV = 'FORMAT_FIXTURE_REVIEWER_TOKEN';
const REVIEWER_TOKEN = 'format-fixture-reviewer-token-0123456789';
const CLIENT_KEY = 'sk-format-fixture-client-0123456789abcdef';

/** The W3C trace id of fixture call `n` (fixed, so the test can name it). */
export const traceIdOf = (n: number) => `f1c7${n.toString(16).padStart(28, '0')}`;
/** The request id of fixture call `n`. */
export const requestIdOf = (n: number) => `fx-${String(n).padStart(2, '0')}`;

function configYaml(store: 'sqlite' | 'jsonl'): string {
  const sqlite = store === 'sqlite';
  return `# The format-v1 fixture's configuration (${store}); see ../README.md. Test-only keys in ../keys.
# Written by src/ledger/test-support/make-format-fixture.ts.
store:
  type: ${store}
  path: ${sqlite ? 'ledger.db' : 'records'}
log:
  origin: ${FIXTURE_ORIGIN}
  signing_key_file: ../keys/signing.key
  checkpoint_interval_ms: 0
  anchor:
    path: anchor
digest:
  key_file: ../keys/digest.key
capture:
  prompts: ${sqlite ? 'encrypted' : 'hash'}
  responses: ${sqlite ? 'encrypted' : 'hash'}
${sqlite ? 'encryption:\n  kek_file: ../keys/kek.key\n' : ''}retention:
  preset: standard
gateway:
  port: 0
  providers:
    openai:
      base_url: \${${UPSTREAM_ENV}:-http://127.0.0.1:9}
    anthropic:
      base_url: \${${UPSTREAM_ENV}:-http://127.0.0.1:9}
    # Nothing listens there: every attempt fails.
    dead:
      format: openai
      base_url: http://127.0.0.1:9
  models:
    - match: gpt-4.1
      providers: [dead, openai]
    - match: gpt-4o-mini
      provider: dead
  policies:
    - name: approved-models
      type: models
      allow: ['gpt-4o*', 'gpt-4.1*', 'claude-*']
    - name: codenames
      type: pattern
      patterns: [{ name: codename, regex: falcon, flags: i }]
      checkpoints: [request]
      action: escalate
      review: { mode: hold, timeout_ms: 30000 }
    - name: projects
      type: pattern
      patterns: [{ name: project, regex: orion, flags: i }]
      checkpoints: [request]
      action: escalate
      review: { mode: async }
  review:
    reviewers:
      - { name: rita, env: ${REVIEWER_ENV}, reveal: true }
    poll_interval_ms: 50
`;
}

/**
 * A policy given in code (after the configured ones), at the response checkpoint: withholds every
 * answer to the user mallory, and holds every answer to oscar for a reviewer.
 */
const answerHold: Policy = {
  name: 'answer-hold',
  type: 'custom',
  checkpoints: new Set(['response']),
  review: { mode: 'hold', timeoutMs: 30_000 },
  evaluate: (subject) =>
    subject.user === 'mallory'
      ? { outcome: 'BLOCK', reason: 'answers to this user are withheld' }
      : subject.user === 'oscar'
        ? { outcome: 'ESCALATE', reason: 'answers to this user are reviewed' }
        : { outcome: 'ALLOW' },
};

interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
  gatewayUrl: string;
  ledger: LedgerReader;
}

const headers = (n: number, user: string, extra: Record<string, string> = {}) => ({
  headers: {
    'x-request-id': requestIdOf(n),
    traceparent: `00-${traceIdOf(n)}-${'ab'.repeat(8)}-01`,
    'x-llm-ledger-user': user,
    'x-llm-ledger-session': `session-${user}`,
    ...extra,
  },
});
const chat = (content: string, model = 'gpt-4o') => ({ model, messages: [{ role: 'user' as const, content }] });
const messages = (content: string) => ({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user' as const, content }] });
/** The outcome of a call the gateway answers with an error: its status. */
const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (err: unknown) => (err as { status?: number }).status ?? -1,
  );

/** The review opened by call 16, which call 17 names. */
let asyncReview: string | undefined;

/**
 * The traffic, in order: call `n` has request id fx-NN and trace id traceIdOf(n). Each returns
 * the HTTP status the client saw.
 */
export const CALLS: readonly { n: number; user: string; what: string; run: (c: Clients) => Promise<number> }[] = [
  {
    n: 1,
    user: 'alice',
    what: 'OpenAI chat, plain',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Say hello to alice.'), headers(1, 'alice'))),
  },
  {
    n: 2,
    user: 'alice',
    what: 'OpenAI chat, streamed',
    run: async ({ openai }) => {
      const stream = await openai.chat.completions.create({ ...chat('Stream a greeting.'), stream: true }, headers(2, 'alice'));
      for await (const chunk of stream) void chunk;
      return 200;
    },
  },
  {
    n: 3,
    user: 'bob',
    what: 'Anthropic messages, plain',
    run: ({ anthropic }) => statusOf(anthropic.messages.create(messages('Say hello to bob.'), headers(3, 'bob'))),
  },
  {
    n: 4,
    user: 'bob',
    what: 'Anthropic messages, streamed',
    run: async ({ anthropic }) => {
      await anthropic.messages.stream(messages('Stream a greeting.'), headers(4, 'bob')).finalMessage();
      return 200;
    },
  },
  {
    n: 5,
    user: 'carol',
    what: 'OpenAI chat, hash-only capture asked by the client',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Keep only my digest.'), headers(5, 'carol', { 'x-llm-ledger-capture': 'hash' }))),
  },
  {
    n: 6,
    user: 'carol',
    what: 'Anthropic messages streamed, hash-only capture asked by the client',
    run: async ({ anthropic }) => {
      await anthropic.messages.stream(messages('Keep only my digest.'), headers(6, 'carol', { 'x-llm-ledger-capture': 'hash' })).finalMessage();
      return 200;
    },
  },
  {
    n: 7,
    user: 'dave',
    what: 'blocked at the request checkpoint by approved-models (model o3)',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Think hard.', 'o3'), headers(7, 'dave'))),
  },
  {
    n: 8,
    user: 'erin',
    what: 'escalated by codenames (hold), approved through the review API, then answered',
    run: async ({ openai, gatewayUrl }) => {
      const answer = statusOf(openai.chat.completions.create(chat('Tell me about Project Falcon.'), headers(8, 'erin')));
      await approve(gatewayUrl, await pendingReview(gatewayUrl), 'public project');
      return answer;
    },
  },
  {
    n: 9,
    user: 'alice',
    what: 'gpt-4.1: the first provider (dead) fails, the fallback (openai) answers',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Route me.', 'gpt-4.1'), headers(9, 'alice'))),
  },
  {
    n: 10,
    user: 'bob',
    what: 'gpt-4o-mini: its only provider (dead) fails, routing fails',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Nobody is there.', 'gpt-4o-mini'), headers(10, 'bob'))),
  },
  {
    n: 11,
    user: 'carol',
    what: 'the upstream answers 500',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Fail upstream.'), headers(11, 'carol', { 'x-fake-scenario': 'error-500' }))),
  },
  {
    n: 12,
    user: 'dave',
    what: 'OpenAI Responses API, streamed',
    run: async ({ openai }) => {
      await openai.responses.stream({ model: 'gpt-4o', input: 'Respond, streaming.' }, headers(12, 'dave')).finalResponse();
      return 200;
    },
  },
  {
    n: 13,
    user: 'mallory',
    what: 'answer blocked at the response checkpoint by answer-hold (a policy given in code)',
    run: ({ openai }) => statusOf(openai.chat.completions.create(chat('Answer mallory.'), headers(13, 'mallory'))),
  },
  {
    n: 14,
    user: 'erin',
    what: 'GET /v1/models (a models_listed event, no LLM call)',
    run: async ({ openai }) => {
      await openai.models.list(headers(14, 'erin'));
      return 200;
    },
  },
  {
    n: 15,
    user: 'oscar',
    what: 'answer escalated at the response checkpoint by answer-hold (hold), approved through the review API',
    run: async ({ openai, gatewayUrl }) => {
      const answer = statusOf(openai.chat.completions.create(chat('Answer oscar.'), headers(15, 'oscar')));
      await approve(gatewayUrl, await pendingReview(gatewayUrl), 'harmless answer');
      return answer;
    },
  },
  {
    n: 16,
    user: 'frank',
    what: 'escalated by projects (async): 202 with a review id at once, then approved through the review API',
    run: async ({ openai, gatewayUrl, ledger }) => {
      const { response } = await openai.chat.completions.create(chat('What is Project Orion?'), headers(16, 'frank')).withResponse();
      asyncReview = response.headers.get('x-llm-ledger-review-id') ?? undefined;
      if (!asyncReview) throw new Error(`no review id in the answer (${response.status})`);
      // The 202 does not wait for the call's record (batched durability): decided at once, the review
      // could be recorded before it. Decided once the record is in, as in the fixture.
      await callRecorded(ledger, 16);
      await approve(gatewayUrl, asyncReview, 'known project');
      return response.status;
    },
  },
  {
    n: 17,
    user: 'frank',
    what: "call 16's request sent again with its approved review's id, then answered",
    run: ({ openai }) =>
      statusOf(openai.chat.completions.create(chat('What is Project Orion?'), headers(17, 'frank', { 'x-llm-ledger-review-id': asyncReview ?? '' }))),
  },
];

async function approve(gatewayUrl: string, review: string, reason: string): Promise<void> {
  const decided = await fetch(`${gatewayUrl}/v1/reviews/${review}/approve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${REVIEWER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason }),
  });
  if (decided.status !== 200) throw new Error(`approving review ${review} answered ${decided.status}: ${await decided.text()}`);
}

async function pendingReview(gatewayUrl: string): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const response = await fetch(`${gatewayUrl}/v1/reviews?status=pending`, { headers: { authorization: `Bearer ${REVIEWER_TOKEN}` } });
    const { data } = (await response.json()) as { data: { id: string }[] };
    if (data.length > 0) return data[0]!.id;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no pending review appeared');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until call `n`'s `llm.call` record is in the ledger. */
async function callRecorded(ledger: LedgerReader, n: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if ((await ledger.search({ requestId: requestIdOf(n), kind: 'llm.call', limit: 1 })).records.length > 0) return;
    await sleep(20);
  }
  throw new Error(`the record of ${requestIdOf(n)} did not appear`);
}

/** The committed test keys: kept when present, created on the fixture's first generation. */
function ensureKeys(): void {
  const keys = join(FIXTURE_DIR, 'keys');
  mkdirSync(keys, { recursive: true });
  const write = (name: string, text: () => string) => {
    const path = join(keys, name);
    if (!existsSync(path)) writeFileSync(path, `${text()}\n`, { mode: 0o600 });
  };
  write('signing.key', () => generateSignerKey(FIXTURE_ORIGIN));
  write('digest.key', () => randomBytes(32).toString('hex'));
  write('kek.key', () => randomBytes(32).toString('hex'));
}

/**
 * Runs CALLS through the gateway into a new ledger in `dir` (emptied first; its config names the
 * keys in `../keys`), then (SQLite) the reveal, erasure and retention pass; returns what happened.
 * The fixture is `generate(store)`; a test may run the same traffic with later code elsewhere.
 */
export async function generate(store: 'sqlite' | 'jsonl', dir = join(FIXTURE_DIR, store)): Promise<string[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'llm-ledger.yaml'), configYaml(store));
  const fake = await startFakeUpstream();
  const env = { [UPSTREAM_ENV]: fake.url, [REVIEWER_ENV]: REVIEWER_TOKEN };
  const config = loadConfig({ path: join(dir, 'llm-ledger.yaml'), env });
  const warnings: string[] = [];
  const ledger = await openLedger(config, { env: {}, onWarning: (line) => warnings.push(line) });
  const gateway = await startGateway({ ledger, config, env, log: (line) => warnings.push(line), policies: [answerHold] });
  const clients: Clients = {
    openai: new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: CLIENT_KEY, baseURL: gateway.url, maxRetries: 0 }),
    gatewayUrl: gateway.url,
    ledger,
  };
  const log: string[] = [];
  let contentCutoff = 0;
  for (const call of CALLS) {
    const status = await call.run(clients);
    log.push(`${store} ${requestIdOf(call.n)} ${call.user}: ${call.what} -> ${status}`);
    // Calls 1 and 2 lie before the retention pass's content cutoff; the rest after it.
    if (call.n === 2) {
      await sleep(50);
      contentCutoff = Date.now();
      await sleep(50);
    }
  }
  await gateway.close({ timeoutMs: 5000 });
  if (store === 'sqlite') {
    // Through the library: a reveal (alice's streamed call), an erasure (bob), and a retention
    // pass run as if 90 days (the standard preset's content period) after the cutoff.
    const [call2] = (await ledger.search({ requestId: requestIdOf(2), kind: 'llm.call' })).records;
    const revealed = await ledger.reveal(call2!.envelope.id, { actor: 'auditor-ann', reason: 'format fixture: incident review' });
    log.push(`${store} reveal of ${requestIdOf(2)}: fields ${Object.keys(revealed.content).join(', ')}`);
    const erased = await ledger.erase({ user: 'bob' });
    log.push(`${store} erasure of bob: ${erased.keysDestroyed} keys, ${erased.contentDeleted} content items`);
    const retention = await ledger.cleanup(contentCutoff + 90 * 86_400_000);
    log.push(`${store} retention: ${JSON.stringify(retention)}`);
  }
  const report = await ledger.verify();
  if (!report.ok) throw new Error(`the ${store} fixture does not verify: ${JSON.stringify(report.problems)}`);
  log.push(`${store} verify: ok, ${report.size} records`);
  await ledger.close();
  await fake.close();
  if (store === 'sqlite') {
    // One file: whatever the WAL still holds goes into the database (still in WAL mode, as written),
    // and closing the last connection removes the emptied -wal and -shm files.
    const db = new DatabaseSync(join(dir, 'ledger.db'));
    db.exec('PRAGMA wal_checkpoint(TRUNCATE);');
    db.close();
    for (const extra of ['ledger.db-wal', 'ledger.db-shm']) if (existsSync(join(dir, extra))) throw new Error(`${extra} is still there after the checkpoint`);
  }
  for (const line of warnings) log.push(`${store} warning: ${line}`);
  return log;
}

function listing(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listing(path) : [`${String(statSync(path).size).padStart(8)}  ${relative(FIXTURE_DIR, path)}`];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureKeys();
  const log = [...(await generate('sqlite')), ...(await generate('jsonl'))];
  console.log([...log, '', ...listing(FIXTURE_DIR)].join('\n'));
}

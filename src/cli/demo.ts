import type { Ledger } from '../ledger/ledger.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import type { RecordInput } from '../record/types.js';
import { formatProofVerification, formatVerifyReport } from './report.js';
import { printable } from './text.js';

const MODELS = [
  { provider: 'openai', model: 'gpt-4o', inPrice: 2.5, outPrice: 10 },
  { provider: 'anthropic', model: 'claude-sonnet-4', inPrice: 3, outPrice: 15 },
  { provider: 'openai', model: 'gpt-4o-mini', inPrice: 0.15, outPrice: 0.6 },
];
const USERS = ['alice', 'bob', 'carol'];

/** Simulated traffic: calls by several users and models, one failure, and one traced gateway request. */
function demoTraffic(): RecordInput[] {
  const calls: RecordInput[] = [];
  for (let i = 0; i < 12; i++) {
    const m = MODELS[i % MODELS.length]!;
    const inputTokens = 200 + ((i * 137) % 900);
    const outputTokens = 50 + ((i * 61) % 400);
    const failed = i === 7;
    calls.push({
      provider: m.provider,
      model: m.model,
      endpoint: m.provider === 'openai' ? '/v1/chat/completions' : '/v1/messages',
      user: USERS[i % USERS.length]!,
      session: `session-${1 + (i % 4)}`,
      apiKey: `sk-demo-${m.provider}-0123456789abcdefghijklmnop`,
      status: failed ? 'error' : 'success',
      httpStatus: failed ? 500 : 200,
      ...(failed ? { error: 'upstream returned 500: overloaded' } : {}),
      inputTokens,
      outputTokens: failed ? 0 : outputTokens,
      latencyMs: 300 + ((i * 211) % 1700),
      ttftMs: 120 + ((i * 37) % 300),
      costUsd: failed ? 0 : (inputTokens * m.inPrice + outputTokens * m.outPrice) / 1e6,
      content: { system: 'You are a helpful assistant.', input: `demo question ${i}`, ...(failed ? {} : { output: `demo answer ${i}` }) },
      metadata: { app: 'demo' },
    });
  }
  return calls;
}

export async function runDemo(ledger: Ledger, out: (line: string) => void): Promise<number> {
  out(`llm-ledger demo: recording simulated LLM traffic into ${printable(ledger.location)}\n`);
  const receipts = await Promise.all(demoTraffic().map((call) => ledger.record(call)));
  const traced = receipts[0]!;
  const traceId = traced.traceId;
  for (const eventType of ['request_received', 'policy_evaluated', 'routing_success', 'request_completed']) {
    await ledger.record({ kind: 'event', eventType, component: 'gateway', traceId, requestId: traced.requestId, metadata: { demo: true } });
  }
  await ledger.flush();
  out(`Recorded ${receipts.length} calls and 4 trace events (indexes ${receipts[0]!.index}..${receipts.at(-1)!.index + 4}).\n`);

  out('$ llm-ledger search --user alice --limit 5');
  const { records } = await ledger.search({ user: 'alice', kind: 'llm.call', limit: 5 });
  for (const { index, envelope: e } of records) {
    out(`  #${index}  ${e.ts}  ${printable(e.model)}  ${e.status}  ${e.inputTokens}/${e.outputTokens} tokens  $${(e.costUsd ?? 0).toFixed(6)}`);
  }

  out(`\n$ llm-ledger trace ${traceId}`);
  for (const { index, envelope: e } of await ledger.trace(traceId)) {
    out(`  #${index}  ${e.ts}  ${e.kind === 'event' ? printable(e.eventType) : `llm.call ${printable(e.model)}`}`);
  }

  out('\n$ llm-ledger stats --by model');
  const stats = await ledger.stats({ by: 'model' });
  for (const row of [...stats.groups, stats.totals]) {
    out(`  ${printable(row.key).padEnd(16)} ${String(row.requests).padStart(4)} calls  ${String(row.inputTokens + row.outputTokens).padStart(6)} tokens  $${row.costUsd.toFixed(6)}  p50 ${row.latencyP50} ms  errors ${(row.errorRate * 100).toFixed(1)}%`);
  }

  out('\n$ llm-ledger verify');
  const report = await ledger.verify();
  out(formatVerifyReport(report));

  out(`\n$ llm-ledger prove ${traced.id} && llm-ledger verify-proof bundle.json`);
  out(formatProofVerification(verifyProof(serializeProof(await ledger.prove(traced.id)), { trustedVerifierKey: ledger.verifierKey })));
  return report.ok ? 0 : 1;
}

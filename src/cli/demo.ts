import { createHash, randomBytes } from 'node:crypto';
import { configSchema, type LedgerConfig } from '../config/schema.js';
import { startGateway } from '../gateway/http/server.js';
import { startFakeUpstream as startSimulatedUpstream } from '../providers/simulated/fake-upstream.js';
import type { Ledger } from '../ledger/ledger.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import { loadDemoSdks, sendDemoTraffic } from './demo-traffic.js';
import { timelineTable } from './format-record.js';
import { formatProofVerification, formatVerifyReport } from '../ledger/report-text.js';
import { printable } from '../ledger/printable.js';

/**
 * The gateway as `llm-ledger serve` runs it, on a free port, in front of the simulated upstream,
 * with governance: an allow-list of models, PII redaction of prompts, a pattern that sends prompts
 * about "Project Falcon" to review, and gpt-4o-mini routed to a primary that fails its first call
 * (`primary`) with the simulated OpenAI as fallback.
 */
function demoGatewayConfig(upstreamUrl: string, primaryUrl: string, reviewerToken: string): LedgerConfig {
  return configSchema(process.cwd()).parse({
    gateway: {
      port: 0,
      providers: { openai: { base_url: upstreamUrl }, anthropic: { base_url: upstreamUrl }, primary: { format: 'openai', base_url: primaryUrl } },
      models: [{ match: 'gpt-4o-mini', providers: ['primary', 'openai'] }],
      policies: [
        { name: 'approved-models', type: 'models', allow: ['gpt-4o*', 'gpt-4.1*', 'claude-*', 'text-embedding-*'] },
        { name: 'pii', type: 'pii', detectors: ['email', 'card', 'iban'], checkpoints: ['request'], action: 'redact' },
        {
          name: 'codenames',
          type: 'pattern',
          patterns: [{ name: 'codename', regex: 'project\\s+falcon', flags: 'i' }],
          checkpoints: ['request'],
          action: 'escalate',
          review: { mode: 'hold', timeout_ms: 30_000 },
        },
      ],
      review: { reviewers: [{ name: 'demo-reviewer', sha256: createHash('sha256').update(reviewerToken).digest('hex') }], poll_interval_ms: 100 },
    },
  });
}

/**
 * Starts a simulated OpenAI and Anthropic upstream (and a second one playing a primary region
 * that fails once) and the governed gateway in front of them, all on free local ports, sends a
 * mix of traffic through the gateway with the official SDKs (plain, streamed, tools, a blocked
 * model, a redacted email, an escalation a reviewer approves, a fallback), stops them gracefully,
 * then shows what search, trace, stats, verify and a proof say about it. Works offline.
 */
export async function runDemo(ledger: Ledger, out: (line: string) => void): Promise<number> {
  const sdks = await loadDemoSdks();
  const upstream = await startSimulatedUpstream();
  const primary = await startSimulatedUpstream({ script: ['error-500'] });
  const reviewerToken = randomBytes(24).toString('hex');
  let traffic;
  try {
    const gateway = await startGateway({ ledger, config: demoGatewayConfig(upstream.url, primary.url, reviewerToken), log: (line) => out(`  ${line}`) });
    try {
      out(
        `llm-ledger demo: the gateway (${gateway.url}) in front of a simulated OpenAI and Anthropic (${upstream.url}), recording into ${printable(ledger.location)}`,
      );
      out('Policies: approved-models (allow list), pii (redacts prompts), codenames (escalates to review); gpt-4o-mini routed primary -> openai.\n');
      out('$ # traffic through the gateway, with the official openai and @anthropic-ai/sdk clients');
      traffic = await sendDemoTraffic(gateway.url, sdks, out, reviewerToken);
    } finally {
      await gateway.close();
    }
  } finally {
    await upstream.close();
    await primary.close();
  }
  await ledger.flush();
  out(
    `\nRecorded ${traffic.calls} calls through the gateway (${traffic.failed} failed upstream, ${traffic.blocked} blocked by policy), each with its trace of events.\n`,
  );

  out('$ llm-ledger search --user alice --kind llm.call --limit 5');
  const { records } = await ledger.search({ user: 'alice', kind: 'llm.call', limit: 5 });
  const indexWidth = Math.max(0, ...records.map((r) => String(r.index).length)) + 1;
  for (const { index, envelope: e } of records) {
    const tokens = `${e.inputTokens ?? 0}/${e.outputTokens ?? 0} tokens`;
    out(
      `  ${`#${index}`.padEnd(indexWidth)}  ${e.ts}  ${printable(e.model).padEnd(18)} ${printable(e.endpoint).padEnd(16)} ${String(e.status).padEnd(7)} ${tokens.padEnd(14)} $${(e.costUsd ?? 0).toFixed(6)}`,
    );
  }

  for (const [what, traceId] of [
    ['an agent turn: a tool call, then the answer', traffic.agentTraceId],
    ['a request for a model not on the allow list', traffic.blockedTraceId],
    ['a prompt escalated to review, approved by a reviewer', traffic.escalatedTraceId],
    ['a call whose primary provider failed, answered by the fallback', traffic.fallbackTraceId],
  ] as const) {
    out(`\n$ llm-ledger trace ${traceId}      # ${what}`);
    out(indent(timelineTable(await ledger.trace(traceId))));
  }

  out('\n$ llm-ledger stats --by model');
  const stats = await ledger.stats({ by: 'model' });
  for (const row of [...stats.groups, stats.totals]) {
    out(
      `  ${printable(row.key).padEnd(24)} ${String(row.requests).padStart(4)} calls  ${String(row.inputTokens + row.outputTokens).padStart(6)} tokens  $${row.costUsd.toFixed(6)}  p50 ${row.latencyP50} ms  errors ${(row.errorRate * 100).toFixed(1)}%`,
    );
  }

  out('\n$ llm-ledger verify');
  const report = await ledger.verify();
  out(formatVerifyReport(report));

  const [call] = (await ledger.search({ traceId: traffic.escalatedTraceId, kind: 'llm.call' })).records;
  out(`\n$ llm-ledger prove ${call!.envelope.id} && llm-ledger verify-proof bundle.json`);
  out(formatProofVerification(verifyProof(serializeProof(await ledger.prove(call!.envelope.id)), { trustedVerifierKey: ledger.verifierKey })));
  out(`\nRun it yourself: llm-ledger serve, then point an OpenAI client at http://127.0.0.1:8787/v1 or an Anthropic client at http://127.0.0.1:8787.`);
  return report.ok ? 0 : 1;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

import { defaultConfig, type LedgerConfig } from '../config/schema.js';
import { startGateway } from '../gateway/server.js';
import { startSimulatedUpstream } from '../gateway/simulated-upstream.js';
import type { Ledger } from '../ledger/ledger.js';
import { serializeProof, verifyProof } from '../log/proof.js';
import { loadDemoSdks, sendDemoTraffic } from './demo-traffic.js';
import { formatProofVerification, formatVerifyReport } from './report.js';
import { printable } from './text.js';

/** The gateway as `llm-ledger serve` runs it, but on a free port, in front of the simulated upstream. */
function demoGatewayConfig(upstreamUrl: string): LedgerConfig {
  const base = defaultConfig(process.cwd());
  return {
    ...base,
    gateway: {
      ...base.gateway,
      port: 0,
      providers: { openai: { format: 'openai', baseUrl: upstreamUrl }, anthropic: { format: 'anthropic', baseUrl: upstreamUrl } },
    },
  };
}

/**
 * Starts a simulated OpenAI and Anthropic upstream and the gateway in front of it, both on free
 * local ports, sends a mix of traffic through the gateway with the official SDKs, stops both
 * (gracefully: every record is written), then shows what search, trace, stats, verify and a
 * proof say about it. Works offline.
 */
export async function runDemo(ledger: Ledger, out: (line: string) => void): Promise<number> {
  const sdks = await loadDemoSdks();
  const upstream = await startSimulatedUpstream();
  let traffic;
  try {
    const gateway = await startGateway({ ledger, config: demoGatewayConfig(upstream.url), log: (line) => out(`  ${line}`) });
    try {
      out(`llm-ledger demo: the gateway (${gateway.url}) in front of a simulated OpenAI and Anthropic (${upstream.url}), recording into ${printable(ledger.location)}\n`);
      out('$ # traffic through the gateway, with the official openai and @anthropic-ai/sdk clients');
      traffic = await sendDemoTraffic(gateway.url, sdks, out);
    } finally {
      await gateway.close();
    }
  } finally {
    await upstream.close();
  }
  await ledger.flush();
  out(`\nRecorded ${traffic.calls} calls through the gateway (${traffic.failed} failed upstream, recorded like the rest).\n`);

  out('$ llm-ledger search --user alice --limit 5');
  const { records } = await ledger.search({ user: 'alice', kind: 'llm.call', limit: 5 });
  for (const { index, envelope: e } of records) {
    const tokens = `${e.inputTokens ?? 0}/${e.outputTokens ?? 0} tokens`;
    out(`  #${index}  ${e.ts}  ${printable(e.model).padEnd(18)} ${printable(e.endpoint).padEnd(16)} ${String(e.status).padEnd(7)} ${tokens.padEnd(14)} $${(e.costUsd ?? 0).toFixed(6)}`);
  }

  out(`\n$ llm-ledger trace ${traffic.agentTraceId}`);
  for (const { index, envelope: e } of await ledger.trace(traffic.agentTraceId)) {
    out(`  #${index}  ${e.ts}  llm.call ${printable(e.model)}  stop: ${printable(e.stopReason)}  tools provided ${e.toolsProvided ?? 0}, called ${e.toolCalls ?? 0}  ttft ${e.ttftMs ?? '-'} ms`);
  }

  out('\n$ llm-ledger stats --by model');
  const stats = await ledger.stats({ by: 'model' });
  for (const row of [...stats.groups, stats.totals]) {
    out(`  ${printable(row.key).padEnd(24)} ${String(row.requests).padStart(4)} calls  ${String(row.inputTokens + row.outputTokens).padStart(6)} tokens  $${row.costUsd.toFixed(6)}  p50 ${row.latencyP50} ms  errors ${(row.errorRate * 100).toFixed(1)}%`);
  }

  out('\n$ llm-ledger verify');
  const report = await ledger.verify();
  out(formatVerifyReport(report));

  const first = (await ledger.trace(traffic.agentTraceId))[0]!.envelope;
  out(`\n$ llm-ledger prove ${first.id} && llm-ledger verify-proof bundle.json`);
  out(formatProofVerification(verifyProof(serializeProof(await ledger.prove(first.id)), { trustedVerifierKey: ledger.verifierKey })));
  out(`\nRun it yourself: llm-ledger serve, then point an OpenAI client at http://127.0.0.1:8787/v1 or an Anthropic client at http://127.0.0.1:8787.`);
  return report.ok ? 0 : 1;
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { openLedger } from '../src/ledger/open-ledger.js';
import { keepAliveAgent, percentile, runBlock, Samples, targetOf, type LoadMode, type LoadTarget } from './gateway-load.js';
import {
  portkeyEntry,
  startBareProxy,
  startLedgerGateway,
  startPortkeyGateway,
  startUpstreamProcess,
  writeLedgerGatewayConfig,
  type GatewayProcess,
} from './gateway-processes.js';

export { gatewayMainRows } from './gateway-report.js';

/** One target's figures in one phase, in milliseconds: the time that phase measures (the whole answer, or its first byte). */
export interface TargetFigures {
  p50: number;
  p90: number;
  p99: number;
  /** Answers per second while this target's blocks ran. */
  perSecond: number;
  /** Streams only: the whole stream, for reference. */
  streamP50?: number;
  /** Gateways only, on Linux: CPU time the gateway's process (every thread) spent per call. */
  cpuMsPerCall?: number;
}

export interface Added {
  p50: number;
  p99: number;
}

export interface PhaseResult {
  mode: LoadMode;
  concurrency: number;
  /** Measured requests per target, after the warm-up. */
  requests: number;
  direct: TargetFigures;
  /** A bare node:http pass-through: the cost of the extra hop alone, on this machine. */
  bare: TargetFigures;
  llmLedger: TargetFigures;
  /** The llm-ledger gateway with three request policies (BENCH_POLICIES), each call's trace events recorded. */
  llmLedgerPolicies: TargetFigures;
  portkey?: TargetFigures;
  /** Gateway percentile minus the direct percentile, same run. */
  llmLedgerAdded: Added;
  llmLedgerPoliciesAdded: Added;
  bareAdded: Added;
  portkeyAdded?: Added;
}

/** What one llm-ledger gateway's ledger holds after the run. */
export interface LedgerCount {
  requestsSent: number;
  callsRecorded: number;
  errorsRecorded: number;
  /** Every record: the calls and their trace events. */
  recordsTotal: number;
  verified: boolean;
}

export interface GatewayBenchResult {
  phases: PhaseResult[];
  /** Every request sent to each llm-ledger gateway, and what its ledger holds afterwards. */
  ledger: LedgerCount;
  ledgerPolicies: LedgerCount;
  portkey: { version?: string; measured: boolean; note?: string };
}

export interface GatewayBenchOptions {
  quick: boolean;
  log: (line: string) => void;
  /** Writes a V8 CPU profile of the llm-ledger gateway here. */
  cpuProfileDir?: string;
}

export interface Phase {
  mode: LoadMode;
  concurrency: number;
  warmup: number;
  measured: number;
}

/**
 * c=1 gives the latency one request pays; c=32 shows whether it holds under load. 5,000
 * requests at c=1 put 50 samples beyond the p99. (More would be steadier, but Portkey's streams
 * take 30 ms each, so each thousand costs it half a minute.)
 */
function phases(quick: boolean): Phase[] {
  const c1 = quick ? { warmup: 300, measured: 1_500 } : { warmup: 1_000, measured: 5_000 };
  const c32 = quick ? { warmup: 640, measured: 3_200 } : { warmup: 3_200, measured: 16_000 };
  return [
    { mode: 'json', concurrency: 1, ...c1 },
    { mode: 'stream', concurrency: 1, ...c1 },
    { mode: 'json', concurrency: 32, ...c32 },
    { mode: 'stream', concurrency: 32, ...c32 },
  ];
}

/**
 * Blocks per phase. The targets take turns block by block (the order rotating each round), so a
 * burst of load from elsewhere on the machine falls on all of them alike instead of on whichever
 * target happened to run then.
 */
const ROUNDS = 10;

/**
 * The gateway scenario (issues 5 and 6): latency the llm-ledger gateway adds over calling the
 * upstream directly, without policies and with three (each call's trace events recorded), and the
 * same for the Portkey gateway, in one run, with the ledgers recording every call.
 */
export async function gatewayOverhead(options: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const { log } = options;
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-gateway-'));
  const upstream = await startUpstreamProcess();
  const configFile = writeLedgerGatewayConfig(dir, upstream.url);
  const governedDir = join(dir, 'governed');
  mkdirSync(governedDir);
  const governedConfigFile = writeLedgerGatewayConfig(governedDir, upstream.url, { policies: true });
  const gateways: GatewayProcess[] = [];
  let upstreamStopped = false;
  try {
    const ledgerGateway = await startLedgerGateway(configFile, options.cpuProfileDir);
    gateways.push(ledgerGateway);
    const governed = await startLedgerGateway(governedConfigFile);
    gateways.push(governed);
    const bare = await startBareProxy(upstream.url);
    gateways.push(bare);
    const targets: LoadTarget[] = [
      { name: 'direct', url: upstream.url, headers: {} },
      targetOf('bare', bare),
      targetOf('llm-ledger', ledgerGateway),
      targetOf('llm-ledger-policies', governed),
    ];
    const portkey = await startPortkey(upstream.url);
    if (portkey.gateway) {
      gateways.push(portkey.gateway);
      targets.push({
        name: 'portkey',
        url: portkey.gateway.url,
        headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream.url}/v1` },
        pid: portkey.gateway.pid,
      });
    } else {
      log(`  Portkey not measured: ${portkey.note}`);
    }

    let sentToLedger = 0;
    let sentToGoverned = 0;
    const results: PhaseResult[] = [];
    for (const phase of phases(options.quick)) {
      const { figures, sent } = await runPhase(phase, targets, options.quick ? 4 : ROUNDS);
      sentToLedger += sent['llm-ledger']!;
      sentToGoverned += sent['llm-ledger-policies']!;
      const result = phaseResult(phase, figures);
      results.push(result);
      log(describePhase(result));
    }

    for (const gateway of gateways.splice(0)) await gateway.stop();
    upstreamStopped = true;
    const served = await upstream.stop();
    if (served.rejected > 0)
      throw new Error(`the upstream rejected ${served.rejected} requests: a gateway forwarded something other than what the client sent`);
    const ledger = await countRecorded(configFile, sentToLedger);
    const ledgerPolicies = await countRecorded(governedConfigFile, sentToGoverned);
    for (const [name, count] of [
      ['llm-ledger', ledger],
      ['llm-ledger with three policies', ledgerPolicies],
    ] as const) {
      log(
        `  ${name} recorded ${count.callsRecorded} of ${count.requestsSent} calls (${count.errorsRecorded} errors) in ${count.recordsTotal} records with their trace events, verify ${count.verified ? 'ok' : 'FAILED'}`,
      );
    }
    return {
      phases: results,
      ledger,
      ledgerPolicies,
      portkey: {
        ...(portkey.version === undefined ? {} : { version: portkey.version }),
        measured: portkey.gateway !== undefined,
        ...(portkey.note === undefined ? {} : { note: portkey.note }),
      },
    };
  } finally {
    for (const gateway of gateways) await gateway.stop().catch(() => undefined);
    if (!upstreamStopped) await upstream.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startPortkey(upstreamUrl: string): Promise<{ gateway?: GatewayProcess; version?: string; note?: string }> {
  const entry = portkeyEntry();
  if (entry === undefined) return { note: '@portkey-ai/gateway is not installed (npm install, with dev dependencies)' };
  const version = (JSON.parse(readFileSync(join(entry, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  try {
    return { gateway: await startPortkeyGateway(entry), version };
  } catch (err) {
    return { version, note: `it did not start (${(err as Error).message.split('\n', 1)[0]}); upstream ${upstreamUrl}` };
  }
}

/**
 * Each block gets fresh connections, opened and used once before its timed requests: kept across
 * blocks, they would sit idle while the other targets run, past the servers' keep-alive timeout
 * (5 s in Node), and a request sent just as a server closes one fails with a reset.
 */
export async function runPhase(phase: Phase, targets: LoadTarget[], rounds: number): Promise<{ figures: Map<string, Samples>; sent: Record<string, number> }> {
  const perBlock = Math.ceil(phase.measured / rounds);
  const samples = new Map(targets.map((t) => [t.name, new Samples(perBlock * rounds)]));
  const sent: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, phase.warmup + rounds * (phase.concurrency + perBlock)]));
  const withAgent = async (concurrency: number, run: (agent: Agent) => Promise<void>) => {
    const agent = keepAliveAgent(concurrency);
    try {
      await run(agent);
    } finally {
      agent.destroy();
    }
  };
  for (const target of targets) await withAgent(phase.concurrency, (agent) => runBlock(agent, target, phase.mode, phase.concurrency, phase.warmup));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(round + k) % targets.length]!;
      await withAgent(phase.concurrency, async (agent) => {
        await runBlock(agent, target, phase.mode, phase.concurrency, phase.concurrency);
        const cpuBefore = processCpuMs(target.pid);
        await runBlock(agent, target, phase.mode, phase.concurrency, perBlock, samples.get(target.name));
        const cpuAfter = processCpuMs(target.pid);
        if (cpuBefore !== undefined && cpuAfter !== undefined) samples.get(target.name)!.cpuMs += cpuAfter - cpuBefore;
      });
    }
  }
  return { figures: samples, sent };
}

export function figuresOf(samples: Samples, mode: LoadMode): TargetFigures {
  const timed = mode === 'stream' ? samples.firstMs : samples.totalMs;
  return {
    p50: percentile(timed, samples.count, 0.5),
    p90: percentile(timed, samples.count, 0.9),
    p99: percentile(timed, samples.count, 0.99),
    perSecond: Math.round((samples.count / samples.busyMs) * 1000),
    ...(mode === 'stream' ? { streamP50: percentile(samples.totalMs, samples.count, 0.5) } : {}),
    ...(samples.cpuMs > 0 ? { cpuMsPerCall: samples.cpuMs / samples.count } : {}),
  };
}

const added = (gateway: TargetFigures, direct: TargetFigures): Added => ({ p50: gateway.p50 - direct.p50, p99: gateway.p99 - direct.p99 });

function phaseResult(phase: Phase, figures: Map<string, Samples>): PhaseResult {
  const direct = figuresOf(figures.get('direct')!, phase.mode);
  const bare = figuresOf(figures.get('bare')!, phase.mode);
  const llmLedger = figuresOf(figures.get('llm-ledger')!, phase.mode);
  const llmLedgerPolicies = figuresOf(figures.get('llm-ledger-policies')!, phase.mode);
  const portkeySamples = figures.get('portkey');
  const portkey = portkeySamples && figuresOf(portkeySamples, phase.mode);
  return {
    mode: phase.mode,
    concurrency: phase.concurrency,
    requests: figures.get('direct')!.count,
    direct,
    bare,
    llmLedger,
    llmLedgerPolicies,
    llmLedgerAdded: added(llmLedger, direct),
    llmLedgerPoliciesAdded: added(llmLedgerPolicies, direct),
    bareAdded: added(bare, direct),
    ...(portkey ? { portkey, portkeyAdded: added(portkey, direct) } : {}),
  };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

function describePhase(r: PhaseResult): string {
  const what = r.mode === 'stream' ? 'streaming, first byte' : 'non-streaming';
  const portkey = r.portkeyAdded ? `; Portkey adds p50 ${ms(r.portkeyAdded.p50)}, p99 ${ms(r.portkeyAdded.p99)}` : '';
  return `  ${what}, c=${r.concurrency}, ${r.requests} requests each: direct p50 ${ms(r.direct.p50)}, p99 ${ms(r.direct.p99)}; a bare node:http proxy adds p50 ${ms(r.bareAdded.p50)}, p99 ${ms(r.bareAdded.p99)}; llm-ledger adds p50 ${ms(r.llmLedgerAdded.p50)}, p99 ${ms(r.llmLedgerAdded.p99)}; with three policies p50 ${ms(r.llmLedgerPoliciesAdded.p50)}, p99 ${ms(r.llmLedgerPoliciesAdded.p99)}${portkey}`;
}

/**
 * CPU time (user and system, every thread) a process has used, from /proc; undefined elsewhere
 * than Linux. Its ticks are 10 ms, so it is only read around whole blocks of requests. A
 * batched record committed after its block ends is counted in the next one.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Opens the gateway's ledger read-only, as an auditor would, and counts and verifies what it holds. */
async function countRecorded(configFile: string, requestsSent: number): Promise<LedgerCount> {
  const ledger = await openLedger(loadConfig({ path: configFile }), { readOnly: true, onWarning: () => undefined });
  try {
    const stats = await ledger.stats();
    const report = await ledger.verify();
    return { requestsSent, callsRecorded: stats.totals.requests, errorsRecorded: stats.totals.errors, recordsTotal: await ledger.size(), verified: report.ok };
  } finally {
    await ledger.close();
  }
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Comparison } from './ab-compare.js';
import { recordsPerCall } from './call-shapes.js';
import { verifyLedger } from './calls-processes.js';
import { keepAliveAgent, runBlock, Samples, targetOf, type LoadTarget } from './gateway-load.js';
import { portkeyEntry, startBareProxy, startPortkeyGateway, startUpstreamProcess, writeLedgerGatewayConfig, type GatewayProcess } from './gateway-processes.js';
import type { PerCallBuild } from './per-call-builds.js';
import { median, spread } from './spread.js';

/**
 * The saturation scenario (issue 19): a closed-loop load at concurrency 64 (the gateway
 * benchmark's node:http keep-alive load generator, gateway-load.ts, in this process: 64 clients,
 * each sending its next non-streaming chat completion when its answer is complete) against a bare
 * node:http pass-through proxy, Portkey (when installed) and each build's `llm-ledger serve`
 * (SQLite, hash-only, every default) without policies and with the benchmarks' three, all in
 * front of the same bench upstream, each in its own process. The targets take turns block by
 * block, the order rotating each round; a block is `perBlock` calls after 64 on its fresh
 * connections. For each target: calls a second (calls of its blocks over their wall time), its
 * process's CPU per call (/proc/<pid>/stat, read 300 ms after each block so a batch committed
 * after the last answer counts), its peak resident memory (VmHWM) and the load generator's own
 * CPU per call. Then the gateways stop and each llm-ledger ledger is verified with its build's
 * library, its `llm.call` records counted against the calls sent.
 */

export const SATURATION_CONCURRENCY = 64;

export interface SaturationOptions {
  warmup: number;
  perBlock: number;
  rounds: number;
  log: (line: string) => void;
}

export interface SaturationTarget {
  name: string;
  /** `bare`, `portkey`, or an llm-ledger build with 0 or 3 policies. */
  kind: 'bare' | 'portkey' | 'llm-ledger';
  build?: string;
  policies?: 0 | 3;
  /** Calls/s of each round's block. */
  callsPerSecond: number[];
  /** Gateway CPU ms a call, each round. */
  cpuMsPerCall: number[];
  /** The load generator's CPU ms a call, each round. */
  generatorCpuMsPerCall: number[];
  /** VmHWM of the gateway's process at the end, MB. */
  peakMemoryMb?: number;
  /** llm-ledger: requests sent, `llm.call` records its ledger holds, records in all, and verify's verdict. */
  sent: number;
  recorded?: { calls: number; records: number; verified: boolean };
}

export interface SaturationResult extends Comparison {
  json: { concurrency: number; warmup: number; perBlock: number; rounds: number; portkey: { version?: string; note?: string }; targets: SaturationTarget[] };
  /** Per build: calls/s over the bare proxy's in the same round, and with three policies over Portkey's (medians). */
  ratios: { build: string; overBare: number[]; policiesOverPortkey?: number[] }[];
}

interface Running {
  target: LoadTarget;
  gateway: GatewayProcess;
  result: SaturationTarget;
  /** llm-ledger: its configuration file and build. */
  ledger?: { config: string; build: PerCallBuild };
  stopped?: boolean;
}

export async function saturationScenario(builds: PerCallBuild[], options: SaturationOptions): Promise<SaturationResult> {
  const { log } = options;
  const c = SATURATION_CONCURRENCY;
  const dir = mkdtempSync(join(tmpdir(), 'llm-ledger-bench-saturation-'));
  const upstream = await startUpstreamProcess();
  const running: Running[] = [];
  let upstreamStopped = false;
  const empty = (name: string, kind: SaturationTarget['kind']): SaturationTarget => ({
    name,
    kind,
    callsPerSecond: [],
    cpuMsPerCall: [],
    generatorCpuMsPerCall: [],
    sent: 0,
  });
  const portkey: { version?: string; note?: string } = {};
  try {
    const bare = await startBareProxy(upstream.url);
    running.push({ target: targetOf('bare', bare), gateway: bare, result: empty('bare node:http proxy', 'bare') });
    const entry = portkeyEntry();
    if (entry === undefined) portkey.note = '@portkey-ai/gateway is not installed (npm install, with dev dependencies)';
    else {
      portkey.version = (JSON.parse(readFileSync(join(entry, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
      try {
        const gateway = await startPortkeyGateway(entry);
        const target = {
          name: 'portkey',
          url: gateway.url,
          headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream.url}/v1` },
          pid: gateway.pid,
        };
        running.push({ target, gateway, result: empty(`Portkey ${portkey.version}`, 'portkey') });
      } catch (err) {
        portkey.note = `it did not start (${(err as Error).message.split('\n', 1)[0]})`;
      }
    }
    if (portkey.note) log(`  Portkey not measured: ${portkey.note}`);
    for (const build of builds) {
      for (const policies of [0, 3] as const) {
        const name = `${build.name}, ${policies} policies`;
        const folder = join(dir, `${running.length}`);
        mkdirSync(folder);
        const config = writeLedgerGatewayConfig(folder, upstream.url, { policies: policies === 3 });
        const gateway = await build.start(config);
        running.push({
          target: targetOf(name, gateway),
          gateway,
          result: { ...empty(`llm-ledger, ${name}`, 'llm-ledger'), build: build.name, policies },
          ledger: { config, build },
        });
      }
    }

    log(
      `saturation: closed loop at c=${c}, ${options.rounds} round(s) of ${options.perBlock} calls per target (after ${options.warmup} to warm up), targets in turn`,
    );
    for (const r of running) {
      await withAgent(c, (agent) => runBlock(agent, r.target, 'json', c, options.warmup));
      r.result.sent += options.warmup;
    }
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const r = running[(round + k) % running.length]!;
        const samples = new Samples(options.perBlock);
        let cpuBefore = 0;
        let generatorBefore = process.cpuUsage();
        await withAgent(c, async (agent) => {
          await runBlock(agent, r.target, 'json', c, c);
          cpuBefore = processCpuMs(r.gateway.pid);
          generatorBefore = process.cpuUsage();
          await runBlock(agent, r.target, 'json', c, options.perBlock, samples);
        });
        const generator = process.cpuUsage(generatorBefore);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const cpu = processCpuMs(r.gateway.pid) - cpuBefore;
        r.result.sent += c + options.perBlock;
        r.result.callsPerSecond.push((samples.count / samples.busyMs) * 1000);
        r.result.cpuMsPerCall.push(cpu / samples.count);
        r.result.generatorCpuMsPerCall.push((generator.user + generator.system) / 1000 / samples.count);
        log(
          `  round ${round + 1}, ${r.result.name}: ${r.result.callsPerSecond.at(-1)!.toFixed(0)} calls/s, CPU ${r.result.cpuMsPerCall.at(-1)!.toFixed(3)} ms a call (load generator ${r.result.generatorCpuMsPerCall.at(-1)!.toFixed(3)} ms)`,
        );
      }
    }
    for (const r of running) {
      const peak = peakMemoryMb(r.gateway.pid);
      if (peak !== undefined) r.result.peakMemoryMb = peak;
    }
    for (const r of running) {
      await r.gateway.stop();
      r.stopped = true;
    }
    upstreamStopped = true;
    const served = await upstream.stop();
    if (served.rejected > 0)
      throw new Error(`the upstream rejected ${served.rejected} requests: a gateway forwarded something other than what the client sent`);
    for (const r of running) {
      if (!r.ledger) continue;
      const verified = await verifyLedger(r.ledger.build, r.ledger.config);
      // Every call sent, each in as many records as its build's format writes for it.
      const records = r.result.sent * recordsPerCall(r.ledger.build.format, r.result.policies ?? 0);
      r.result.recorded = {
        calls: verified.calls,
        records: verified.size,
        verified: verified.ok && verified.verifiedSize === records && verified.size === records,
      };
      log(
        `  ${r.result.name}: ${verified.calls} of ${r.result.sent} calls recorded (llm.call records) in ${verified.size} records, verify ${verified.ok ? 'ok' : `FAILED ${verified.problems.join('; ')}`}`,
      );
    }
    return report(
      options,
      portkey,
      running.map((r) => r.result),
      builds.map((b) => b.name),
    );
  } finally {
    for (const r of running) if (!r.stopped) await r.gateway.stop().catch(() => undefined);
    if (!upstreamStopped) await upstream.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withAgent(concurrency: number, run: (agent: ReturnType<typeof keepAliveAgent>) => Promise<void>): Promise<void> {
  const agent = keepAliveAgent(concurrency);
  try {
    await run(agent);
  } finally {
    agent.destroy();
  }
}

/** CPU (user + system, every thread) of a process, ms, from /proc/<pid>/stat; USER_HZ is 100. 0 elsewhere than Linux. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** VmHWM (peak resident set) of a process, MB, from /proc/<pid>/status. */
function peakMemoryMb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const perRound = (a: SaturationTarget, b: SaturationTarget) => a.callsPerSecond.map((v, i) => v / b.callsPerSecond[i]!);

function report(options: SaturationOptions, portkey: { version?: string; note?: string }, targets: SaturationTarget[], builds: string[]): SaturationResult {
  const bare = targets.find((t) => t.kind === 'bare')!;
  const portkeyTarget = targets.find((t) => t.kind === 'portkey');
  const of = (build: string, policies: 0 | 3) => targets.find((t) => t.build === build && t.policies === policies)!;
  const ratios = builds.map((build) => ({
    build,
    overBare: perRound(of(build, 0), bare),
    ...(portkeyTarget ? { policiesOverPortkey: perRound(of(build, 3), portkeyTarget) } : {}),
  }));
  const rows = [
    [
      'target',
      'calls/s, median (range)',
      'gateway CPU ms a call',
      'peak memory (VmHWM) MB',
      'load generator CPU ms a call',
      'calls sent / llm.call recorded (records), verified',
    ],
    ...targets.map((t) => [
      t.name,
      spread(t.callsPerSecond, 0),
      spread(t.cpuMsPerCall, 3),
      t.peakMemoryMb?.toFixed(0) ?? '-',
      median(t.generatorCpuMsPerCall).toFixed(3),
      t.recorded ? `${t.sent} / ${t.recorded.calls} (${t.recorded.records}), ${t.recorded.verified && t.recorded.calls === t.sent}` : `${t.sent} / -`,
    ]),
    ...ratios.flatMap((r) => [
      [`${r.build}, 0 policies / bare proxy`, `${spread(r.overBare, 2, 'x')} (same round)`, '-', '-', '-', 'target >= 0.5'],
      ...(r.policiesOverPortkey
        ? [[`${r.build}, 3 policies / Portkey`, `${spread(r.policiesOverPortkey, 2, 'x')} (same round)`, '-', '-', '-', 'target >= 2']]
        : []),
    ]),
  ];
  return {
    rows,
    json: { concurrency: SATURATION_CONCURRENCY, warmup: options.warmup, perBlock: options.perBlock, rounds: options.rounds, portkey, targets },
    ratios,
  };
}

/** Every llm-ledger target recorded every call it was sent, and its ledger verified. */
export function saturationAllRecorded(result: SaturationResult): boolean {
  return result.json.targets.every((t) => t.kind !== 'llm-ledger' || (t.recorded?.verified === true && t.recorded.calls === t.sent));
}

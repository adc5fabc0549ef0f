import { loadConfig } from '../../config/load.js';
import type { LedgerConfig } from '../../config/schema.js';
import { openLedger } from '../../ledger/open-ledger.js';
import type { Ledger } from '../../ledger/ledger.js';
import { startGateway } from './server.js';
import { gatewaySettings } from '../settings.js';

export interface ServeOptions {
  /** The configuration file (else LLM_LEDGER_CONFIG, else ./llm-ledger.yaml, else the defaults). */
  configPath?: string;
  /** Overrides `gateway.port`. */
  port?: number;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Resolves when the gateway should stop; defaults to the first SIGTERM or SIGINT. */
  stopSignal?: Promise<string>;
}

/**
 * `llm-ledger serve`: opens the ledger (retention on its schedule, the spool when configured),
 * serves until SIGTERM or SIGINT, then stops gracefully: no new connections, requests in flight
 * finished (or cut off after `gateway.shutdown_timeout_ms` and recorded as aborted), every
 * record written, the ledger flushed and closed with a final checkpoint.
 */
export async function serve(options: ServeOptions): Promise<number> {
  const config = loadConfig(options.configPath === undefined ? {} : { path: options.configPath });
  // Checked before the ledger opens: a missing key variable should not leave a half-started gateway.
  gatewaySettings(config);
  const ledger = await openLedger(config, {
    scheduleCleanup: true,
    onWarning: (message) => options.err(`warning: ${message}`),
    retryIntervalMs: config.gateway.retryIntervalMs,
    ...(config.gateway.onStoreFailure === 'spool' ? { spoolFile: config.gateway.spoolFile } : {}),
  });
  let gateway;
  try {
    gateway = await startGateway({ ledger, config, ...(options.port === undefined ? {} : { port: options.port }), log: options.err });
  } catch (err) {
    await ledger.close();
    throw err;
  }
  // One write, so a reader of the output (a supervisor, a test) never sees the banner half written.
  options.out(describe(config, gateway.url, ledger).join('\n'));

  const signal = await (options.stopSignal ?? stopSignal());
  options.out(`${signal}: stopping; finishing requests in flight (at most ${config.gateway.shutdownTimeoutMs} ms)`);
  await gateway.close();
  await ledger.close();
  options.out('stopped; every record is written');
  return 0;
}

/** The first SIGTERM or SIGINT; a second one while stopping exits at once. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.once(signal, () => {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(130);
      });
      resolve(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function describe(config: LedgerConfig, url: string, ledger: Ledger): string[] {
  const g = config.gateway;
  return [
    `llm-ledger gateway listening on ${url} (loopback only), recording into ${ledger.location}`,
    `  checkpoints signed for verifier key ${ledger.verifierKey} (publish it for auditors)`,
    `  OpenAI clients:    base URL ${url}/v1`,
    `  Anthropic clients: base URL ${url}`,
    `  providers: ${Object.entries(g.providers)
      .map(([name, p]) => `${name} (${p.format}) ${p.baseUrl}`)
      .join(', ')}`,
    `  auth: ${g.auth === 'gateway_keys' ? `gateway keys (${g.keys.length})` : "pass-through of each client's own provider key"}; durability: ${g.durability === 'batched' && g.batchWindowMs > 0 ? `batched (${g.batchWindowMs} ms window)` : g.durability}; on store failure: ${g.onStoreFailure === 'spool' ? `spool to ${g.spoolFile}` : 'fail closed'}`,
  ];
}

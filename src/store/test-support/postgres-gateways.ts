import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withClient } from './postgres.js';

/** `llm-ledger serve` as users run it: the built binary (`npm test` builds it first). */
export const BIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

export function builtBinaryMissing(): string | undefined {
  return existsSync(BIN) ? undefined : `${BIN} is missing: run npm run build first`;
}

/** A config for gateways that share one PostgreSQL schema, signing key, digest key and anchor directory. */
export function writeSharedConfig(dir: string, url: string, schema: string, upstream: string): string {
  const path = join(dir, 'llm-ledger.yaml');
  writeFileSync(
    path,
    [
      `store: { type: postgres, url: '${url}', schema: ${schema} }`,
      `log: { signing_key_file: signing.key, checkpoint_interval_ms: 100, anchor: { path: anchor } }`,
      `digest: { key_file: digest.key }`,
      // sync: a 200 means the call's record is committed, so every 200 is an acknowledged record.
      `gateway: { port: 0, durability: sync, providers: { openai: { base_url: '${upstream}' } } }`,
      '',
    ].join('\n'),
  );
  return path;
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `llm-ledger serve` in `dir` and waits until it listens. */
export async function startServe(dir: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
  for (let waited = 0; !listening.test(out); waited += 20) {
    if (waited > 20_000 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, pid: child.pid!, url: listening.exec(out)![1]!, exited, output: () => out };
}

/**
 * Chat calls from `concurrency` loops spread over the gateways, until stopped. A gateway that
 * stops answering (killed) is left out from then on. Each call carries its own request id;
 * `acknowledged` holds the ids of the calls answered 200.
 */
export class CallLoad {
  readonly acknowledged = new Set<string>();
  failed = 0;
  private running = true;
  private next = 0;
  private readonly dead = new Set<string>();
  private readonly loops: Promise<void>[];

  constructor(
    private readonly urls: string[],
    concurrency: number,
  ) {
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const alive = this.urls.filter((u) => !this.dead.has(u));
      if (alive.length === 0) return;
      const n = this.next++;
      const url = alive[n % alive.length]!;
      const requestId = `load-${n}`;
      try {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-load-test-0123456789abcdefghij', 'x-request-id': requestId },
          body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `question ${n}` }] }),
        });
        await response.arrayBuffer();
        if (response.status === 200) this.acknowledged.add(requestId);
        else this.failed++;
      } catch {
        this.failed++;
        this.dead.add(url);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * What the log holds, read straight from its tables: index range, and how often each request id
 * occurs. One REPEATABLE READ transaction, so every count comes from the same snapshot even while
 * gateways still commit.
 */
export async function logContents(
  url: string,
  schema: string,
): Promise<{ leaves: number; lastIndex: number; records: number; headSize: number; requestIds: Map<string, number>; checkpointSize: number }> {
  return withClient(async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const leaves = (await client.query<{ n: string; last: string | null }>(`SELECT count(*) AS n, max(idx) AS last FROM "${schema}".leaves`)).rows[0]!;
    const records = (await client.query<{ n: string }>(`SELECT count(DISTINCT idx) AS n FROM "${schema}".records`)).rows[0]!;
    const head = (await client.query<{ size: string }>(`SELECT size FROM "${schema}".log_head`)).rows[0]!;
    const checkpoint = (await client.query<{ size: string | null }>(`SELECT max(size) AS size FROM "${schema}".checkpoints`)).rows[0]!;
    const ids = await client.query<{ id: string; n: string }>(
      `SELECT envelope ->> 'requestId' AS id, count(*) AS n FROM "${schema}".records WHERE envelope ->> 'kind' = 'llm.call' GROUP BY 1`,
    );
    await client.query('COMMIT');
    return {
      leaves: Number(leaves.n),
      lastIndex: leaves.last === null ? -1 : Number(leaves.last),
      records: Number(records.n),
      headSize: Number(head.size),
      requestIds: new Map(ids.rows.map((r) => [r.id, Number(r.n)])),
      checkpointSize: Number(checkpoint.size ?? 0),
    };
  }, url);
}

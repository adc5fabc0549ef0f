import { existsSync, readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { NO_JIT } from '../store/postgres-connection.js';

/** What PostgreSQL spent on a piece of work, per record stored. */
export interface ServerCost {
  /** CPU of every server process (backends, WAL writer, checkpointer); absent unless the server runs on this Linux machine. */
  serverCpuMicrosPerRecord?: number;
  /** WAL the server wrote, from its insert position. */
  walBytesPerRecord: number;
}

/**
 * Meters the server from `start` to `stop`. Both figures are server-wide, so other clients of the
 * server count too (run under the bench lock, with nothing else writing). Stop before the
 * measured connections close: a backend that has exited no longer shows its CPU.
 */
export class ServerMeter {
  private constructor(
    private readonly client: pg.Client,
    private readonly cpuBefore: number | undefined,
    private readonly walBefore: string,
  ) {}

  static async start(url: string): Promise<ServerMeter> {
    const client = new pg.Client({ connectionString: url, options: NO_JIT });
    await client.connect();
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return new ServerMeter(client, isLocal(url) ? serverCpuSeconds() : undefined, rows[0]!.lsn);
  }

  async stop(records: number): Promise<ServerCost> {
    const cpu = this.cpuBefore === undefined ? undefined : serverCpuSeconds() - this.cpuBefore;
    try {
      const { rows } = await this.client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS bytes', [this.walBefore]);
      const cost: ServerCost = { walBytesPerRecord: Math.round(Number(rows[0]!.bytes) / records) };
      if (cpu !== undefined) cost.serverCpuMicrosPerRecord = Math.round((cpu / records) * 1e6);
      return cost;
    } finally {
      await this.client.end();
    }
  }
}

function isLocal(url: string): boolean {
  return existsSync('/proc/self/stat') && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
}

/** Linux counts process CPU in clock ticks of 1/100 s (USER_HZ, 100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;

/** User and system CPU of every `postgres` process on this machine, in seconds. */
function serverCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while being read.
    }
  }
  return ticks / TICKS_PER_SECOND;
}
